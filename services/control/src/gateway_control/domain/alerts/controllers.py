"""HTTP routes of the alert history context (read-only)."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, get
from litestar.di import Provide
from litestar.params import Parameter

from gateway_control.domain.alerts.schemas import BudgetAlertPage
from gateway_control.domain.alerts.services import AlertHistoryService
from gateway_control.errors import PermissionDeniedError
from gateway_control.security.principal import Principal, TenantRole
from gateway_control.security.rbac import authorize_tenant
from gateway_control.state import ControlState


def authorize_alerts(principal: Principal, tenant_id: uuid.UUID | None) -> None:
    """Platform admins may read every alert; others only those of a tenant they can see."""
    if principal.is_platform_admin:
        return
    if tenant_id is None:
        raise PermissionDeniedError("tenant_id is required unless you are a platform admin")
    authorize_tenant(principal, tenant_id, TenantRole.VIEWER)


def provide_alert_history(control: ControlState) -> AlertHistoryService:
    """An AlertHistoryService over the app's accounting client."""
    return AlertHistoryService(control.accounting)


class AlertController(Controller):
    """The budget alert history (stored and served by the accounting service)."""

    path = "/alerts"
    tags = ["alerts"]
    dependencies = {"alerts": Provide(provide_alert_history, sync_to_thread=False)}

    @get("", operation_id="listBudgetAlerts", summary="Budget alert history")
    async def list_budget_alerts(
        self,
        alerts: AlertHistoryService,
        principal: Principal,
        tenant_id: Annotated[
            uuid.UUID | None, Parameter(description="Alerts of this tenant's budgets and its keys' budgets")
        ] = None,
        budget_id: Annotated[uuid.UUID | None, Parameter(description="Alerts of this budget only")] = None,
        limit: Annotated[int, Parameter(ge=1, le=500)] = 100,
        page_token: Annotated[str | None, Parameter(max_length=512)] = None,
    ) -> BudgetAlertPage:
        """Alerts sent (or being sent) per channel, newest first, with their delivery status;
        503 when accounting is down."""
        authorize_alerts(principal, tenant_id)
        return await alerts.page(tenant_id=tenant_id, budget_id=budget_id, limit=limit, page_token=page_token)
