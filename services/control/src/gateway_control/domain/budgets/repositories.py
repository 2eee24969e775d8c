"""Budget rows in Postgres, through the sqlc-generated queries."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from gateway_control.database import Connection
from gateway_control.db import budgets as queries
from gateway_control.db.budgets import GetBudgetRow
from gateway_control.db.tables import Budget
from gateway_control.errors import NotFoundError


@dataclass(frozen=True, slots=True)
class BudgetTerms:
    """What a budget allows: limit, period, zone, hard flag and alert thresholds."""

    limit_micro_usd: int
    period: str
    rolling_days: int | None
    timezone: str
    hard: bool
    thresholds: list[int]


def budget_not_found(budget_id: uuid.UUID) -> NotFoundError:
    """The error for an unknown budget, and for a budget the caller may not see."""
    return NotFoundError(f"budget {budget_id} does not exist")


class BudgetRepository:
    """Budget queries on one connection; a missing budget raises NotFoundError."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def create(self, scope: str, scope_id: uuid.UUID, terms: BudgetTerms) -> Budget:
        """Insert a budget (a second one with the same scope and period raises a unique violation)."""
        row = await queries.create_budget(
            self._conn,
            scope=scope,
            scope_id=scope_id,
            limit_micro_usd=terms.limit_micro_usd,
            period=terms.period,
            rolling_days=terms.rolling_days,
            timezone=terms.timezone,
            hard=terms.hard,
            thresholds=terms.thresholds,
        )
        if row is None:
            raise RuntimeError("INSERT ... RETURNING returned no row")
        return row

    async def get(self, budget_id: uuid.UUID) -> GetBudgetRow:
        """The budget with this id, with its tenant."""
        row = await queries.get_budget(self._conn, id=budget_id)
        if row is None:
            raise budget_not_found(budget_id)
        return row

    async def list_for_tenant(self, tenant_id: uuid.UUID) -> list[Budget]:
        """The budgets of a tenant and of its keys."""
        return await queries.list_budgets_by_tenant(self._conn, tenant_id=tenant_id)

    async def list_for_key(self, key_id: uuid.UUID) -> list[Budget]:
        """The budgets of one key."""
        return await queries.list_budgets_by_scope(self._conn, scope="key", scope_id=key_id)

    async def update(self, budget_id: uuid.UUID, terms: BudgetTerms) -> Budget:
        """Replace a budget's terms."""
        row = await queries.update_budget(
            self._conn,
            id=budget_id,
            limit_micro_usd=terms.limit_micro_usd,
            period=terms.period,
            rolling_days=terms.rolling_days,
            timezone=terms.timezone,
            hard=terms.hard,
            thresholds=terms.thresholds,
        )
        if row is None:
            raise budget_not_found(budget_id)
        return row

    async def delete(self, budget_id: uuid.UUID) -> Budget:
        """Delete a budget and return it."""
        row = await queries.delete_budget(self._conn, id=budget_id)
        if row is None:
            raise budget_not_found(budget_id)
        return row
