"""HTTP routes of the usage context."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime
from typing import Annotated

from litestar import Controller, get
from litestar.di import Provide
from litestar.params import Parameter

from gateway_control.clients.accounting import UsageQuery
from gateway_control.domain.keys.repositories import ApiKeyRepository
from gateway_control.domain.keys.services import authorize_key
from gateway_control.domain.usage.schemas import UsageBreakdown, UsageGroupBy, UsageRequestPage, UsageSummary
from gateway_control.domain.usage.services import UsageService
from gateway_control.errors import PermissionDeniedError
from gateway_control.security.principal import Principal, TenantRole
from gateway_control.security.rbac import authorize_tenant
from gateway_control.state import ControlState


async def authorize_usage(
    control: ControlState, principal: Principal, tenant_id: uuid.UUID | None, key_id: uuid.UUID | None
) -> None:
    """Platform admins may ask about anything; others only about tenants and keys they can see."""
    if principal.is_platform_admin:
        return
    if tenant_id is None and key_id is None:
        raise PermissionDeniedError("tenant_id or key_id is required unless you are a platform admin")
    if tenant_id is not None:
        authorize_tenant(principal, tenant_id, TenantRole.VIEWER)
    if key_id is not None:
        async with control.db.connection() as conn:
            row = await ApiKeyRepository(conn).get(key_id)
        authorize_key(principal, row, TenantRole.VIEWER)


Start = Annotated[datetime | None, Parameter(description="Inclusive start, with UTC offset")]
End = Annotated[datetime | None, Parameter(description="Exclusive end, with UTC offset")]
Timezone = Annotated[
    str | None, Parameter(max_length=64, description="IANA zone days are cut in, e.g. Europe/Paris")
]
ModelName = Annotated[str | None, Parameter(max_length=200, description="Only this public model name")]


async def provide_usage_query(
    control: ControlState,
    principal: Principal,
    tenant_id: uuid.UUID | None = None,
    key_id: uuid.UUID | None = None,
    model: ModelName = None,
    start: Start = None,
    end: End = None,
) -> UsageQuery:
    """The filter shared by the breakdown and the request log, once the caller may see it."""
    await authorize_usage(control, principal, tenant_id, key_id)
    return UsageQuery(
        tenant_id=None if tenant_id is None else str(tenant_id),
        key_id=None if key_id is None else str(key_id),
        model=model or None,
        start=start,
        end=end,
    )


def provide_usage_service(control: ControlState) -> UsageService:
    """A UsageService over the app's accounting client."""
    return UsageService(control.accounting)


class UsageController(Controller):
    """Usage totals (served by the accounting service)."""

    path = "/usage"
    tags = ["usage"]
    dependencies = {
        "usage": Provide(provide_usage_service, sync_to_thread=False),
        "usage_query": Provide(provide_usage_query),
    }

    @get("/summary", operation_id="getUsageSummary", summary="Usage totals")
    async def get_usage_summary(
        self,
        usage: UsageService,
        control: ControlState,
        principal: Principal,
        tenant_id: uuid.UUID | None = None,
        key_id: uuid.UUID | None = None,
        start: Start = None,
        end: End = None,
        timezone: Timezone = None,
    ) -> UsageSummary:
        """Requests, tokens, cost (integer micro-USD) and errors; 503 when accounting is down."""
        await authorize_usage(control, principal, tenant_id, key_id)
        return await usage.summary(
            tenant_id=tenant_id, key_id=key_id, start=start, end=end, timezone=timezone
        )

    @get("/breakdown", operation_id="getUsageBreakdown", summary="Usage totals per group")
    async def get_usage_breakdown(
        self, usage: UsageService, usage_query: UsageQuery, group_by: UsageGroupBy, timezone: Timezone = None
    ) -> UsageBreakdown:
        """Totals per tenant, key, model, provider or day (in `timezone`); 503 when accounting is down."""
        return await usage.breakdown(replace(usage_query, timezone=timezone), group_by)

    @get("/requests", operation_id="listUsageRequests", summary="The request log")
    async def list_usage_requests(
        self,
        usage: UsageService,
        usage_query: UsageQuery,
        limit: Annotated[int, Parameter(ge=1, le=500)] = 100,
        page_token: Annotated[str | None, Parameter(max_length=512)] = None,
    ) -> UsageRequestPage:
        """Finished requests newest first, with status, tokens, cost and latency (no content)."""
        return await usage.requests(usage_query, limit, page_token)
