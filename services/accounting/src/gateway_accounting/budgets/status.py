"""`GetBudgetStatus`: each budget's standing in its current period, from Postgres.

Spend is exact (Postgres, not the Redis counter); `reserved_micro_usd` is what the proxies hold
right now for requests not settled yet (Redis; 0 without it). Budgets come from the in-memory
book, so one created in control shows up within ACCOUNTING_BUDGET_REFRESH_S.
"""

from __future__ import annotations

import uuid

from gateway_proto.v1 import budget_pb2
from google.protobuf.timestamp_pb2 import Timestamp

from gateway_accounting.budgets.book import BudgetBook
from gateway_accounting.budgets.settlement import BudgetSettler
from gateway_accounting.errors import DatabaseUnavailable, InvalidQuery

_SCOPES = {"tenant": budget_pb2.BUDGET_SCOPE_TENANT, "key": budget_pb2.BUDGET_SCOPE_KEY}


def _timestamp(moment: object) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(moment)  # type: ignore[arg-type]
    return stamp


class BudgetStatusReader:
    """Answers budget status questions for the gRPC servicer."""

    def __init__(self, book: BudgetBook, settler: BudgetSettler) -> None:
        self._book = book
        self._settler = settler

    async def states(self, scope_id: str) -> list[budget_pb2.BudgetState]:
        """The budgets of a tenant or key id (all budgets for ""), in their current periods.

        Raises InvalidQuery for a scope id that is not a UUID, DatabaseUnavailable before the
        budgets were ever loaded.
        """
        scope: uuid.UUID | None = None
        if scope_id:
            try:
                scope = uuid.UUID(scope_id)
            except ValueError as exc:
                raise InvalidQuery(f"scope_id must be a UUID, got {scope_id!r}") from exc
        if not self._book.loaded:
            raise DatabaseUnavailable("budgets not loaded yet")
        states = []
        for budget in self._book.for_scope(scope):
            period = self._settler.period_of(budget)
            if period is None:
                continue
            states.append(
                budget_pb2.BudgetState(
                    budget_id=str(budget.id),
                    scope=_SCOPES.get(budget.scope, budget_pb2.BUDGET_SCOPE_UNSPECIFIED),
                    scope_id=str(budget.scope_id),
                    limit_micro_usd=budget.limit_micro_usd,
                    spent_micro_usd=await self._settler.spent(budget, period),
                    reserved_micro_usd=await self._settler.reserved(budget, period),
                    hard=budget.hard,
                    period=budget.period,
                    timezone=budget.timezone,
                    period_start=_timestamp(period.start),
                    resets_at=_timestamp(period.end),
                )
            )
        return states
