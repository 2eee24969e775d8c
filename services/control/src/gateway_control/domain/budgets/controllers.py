"""HTTP routes of the budgets context."""

from __future__ import annotations

import uuid

from litestar import Controller, delete, get, patch, post
from litestar.di import Provide
from litestar.status_codes import HTTP_204_NO_CONTENT

from gateway_control.domain.audit.services import Actor
from gateway_control.domain.budgets.schemas import Budget, BudgetCreate, BudgetList, BudgetUpdate
from gateway_control.domain.budgets.services import BudgetService
from gateway_control.security.guards import require_tenant_role
from gateway_control.security.principal import Principal, TenantRole
from gateway_control.state import ControlState


def provide_budget_service(control: ControlState) -> BudgetService:
    """A BudgetService over the app's database and config publisher."""
    return BudgetService(control.db, control.publisher)


class BudgetController(Controller):
    """Spending limits on tenants and keys."""

    tags = ["budgets"]
    dependencies = {"budgets": Provide(provide_budget_service, sync_to_thread=False)}

    @post(
        "/tenants/{tenant_id:uuid}/budgets",
        operation_id="createBudget",
        summary="Create a budget",
        guards=[require_tenant_role(TenantRole.ADMIN)],
    )
    async def create_budget(
        self,
        budgets: BudgetService,
        actor: Actor,
        principal: Principal,
        tenant_id: uuid.UUID,
        data: BudgetCreate,
    ) -> Budget:
        """A budget on the tenant (platform admins) or one of its keys (tenant admins)."""
        return await budgets.create(actor, principal, tenant_id, data)

    @get(
        "/tenants/{tenant_id:uuid}/budgets",
        operation_id="listBudgets",
        summary="List a tenant's budgets",
        guards=[require_tenant_role(TenantRole.VIEWER)],
    )
    async def list_budgets(self, budgets: BudgetService, tenant_id: uuid.UUID) -> BudgetList:
        """The tenant's budget and its keys' budgets."""
        return await budgets.list(tenant_id)

    @get("/budgets/{budget_id:uuid}", operation_id="getBudget", summary="Get a budget")
    async def get_budget(self, budgets: BudgetService, principal: Principal, budget_id: uuid.UUID) -> Budget:
        """One budget (members of its tenant)."""
        return await budgets.get(principal, budget_id)

    @patch("/budgets/{budget_id:uuid}", operation_id="updateBudget", summary="Change a budget")
    async def update_budget(
        self,
        budgets: BudgetService,
        actor: Actor,
        principal: Principal,
        budget_id: uuid.UUID,
        data: BudgetUpdate,
    ) -> Budget:
        """Limit, period, time zone, hard flag or alert thresholds."""
        return await budgets.update(actor, principal, budget_id, data)

    @delete(
        "/budgets/{budget_id:uuid}",
        operation_id="deleteBudget",
        summary="Delete a budget",
        status_code=HTTP_204_NO_CONTENT,
    )
    async def delete_budget(
        self, budgets: BudgetService, actor: Actor, principal: Principal, budget_id: uuid.UUID
    ) -> None:
        """Remove a budget; the proxy stops enforcing it with the next config snapshot."""
        await budgets.delete(actor, principal, budget_id)
