"""HTTP routes of the tenants context."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, get, patch, post
from litestar.di import Provide
from litestar.params import Parameter

from gateway_control.domain._types import PageLimit, PageOffset
from gateway_control.domain.audit.services import Actor
from gateway_control.domain.budgets.defaults import DefaultBudgets
from gateway_control.domain.tenants.schemas import Tenant, TenantCreate, TenantPage, TenantUpdate
from gateway_control.domain.tenants.services import TenantService
from gateway_control.security.guards import require_platform_admin, require_tenant_role
from gateway_control.security.principal import Principal, TenantRole
from gateway_control.state import ControlState


def provide_tenant_service(control: ControlState) -> TenantService:
    """A TenantService over the app's database, key-record publisher and default budgets."""
    return TenantService(
        control.db, control.key_records, DefaultBudgets.from_settings(control.settings, control.publisher)
    )


class TenantController(Controller):
    """Create, list, read and suspend tenants."""

    path = "/tenants"
    tags = ["tenants"]
    dependencies = {"tenants": Provide(provide_tenant_service, sync_to_thread=False)}

    @post("/", operation_id="createTenant", summary="Create a tenant", guards=[require_platform_admin])
    async def create_tenant(self, tenants: TenantService, actor: Actor, data: TenantCreate) -> Tenant:
        """Create an active tenant (platform admins); 409 when the name is taken."""
        return await tenants.create(actor, data)

    @get("/", operation_id="listTenants", summary="List tenants")
    async def list_tenants(
        self,
        tenants: TenantService,
        principal: Principal,
        limit: PageLimit = 50,
        offset: PageOffset = 0,
        include_personal: Annotated[
            bool, Parameter(description="Platform admins: include users' personal tenants")
        ] = False,
    ) -> TenantPage:
        """One page of tenants ordered by name: every tenant for platform admins, else the caller's."""
        return await tenants.page(principal, limit, offset, include_personal=include_personal)

    @get(
        "/{tenant_id:uuid}",
        operation_id="getTenant",
        summary="Get a tenant",
        guards=[require_tenant_role(TenantRole.VIEWER)],
    )
    async def get_tenant(self, tenants: TenantService, tenant_id: uuid.UUID) -> Tenant:
        """One tenant by id (404 unless the caller is a member or a platform admin)."""
        return await tenants.get(tenant_id)

    @patch(
        "/{tenant_id:uuid}",
        operation_id="updateTenant",
        summary="Change a tenant's status, model entitlements or rate limits",
        guards=[require_tenant_role(None)],
    )
    async def update_tenant(
        self, tenants: TenantService, actor: Actor, tenant_id: uuid.UUID, data: TenantUpdate
    ) -> Tenant:
        """Platform admins only; a suspended tenant's keys stop working at the proxy at once."""
        return await tenants.update(actor, tenant_id, data)
