"""A budget's spend in one period, from Postgres (the source of truth for every counter).

Spend is the sum of `cost_micro_usd` of the requests that *started* inside the period, for the
budget's tenant or key. When both ends of the period are on a UTC hour (every zone whose offset
is a whole number of hours) the hourly rollup answers exactly and cheaply; otherwise the raw
rows are summed.
"""

from __future__ import annotations

from datetime import datetime

from gateway_accounting.budgets.control_catalog import Budget
from gateway_accounting.budgets.periods import BudgetPeriod
from gateway_accounting.db import budgets as queries
from gateway_accounting.db.connection import Executor


def _on_the_hour(moment: datetime) -> bool:
    return moment.minute == 0 and moment.second == 0 and moment.microsecond == 0


async def period_spend(conn: Executor, budget: Budget, period: BudgetPeriod) -> int:
    """Micro-USD spent by the budget's scope over `period` (requests by start time)."""
    hourly = _on_the_hour(period.start) and _on_the_hour(period.end)
    bounds = {"period_start": period.start, "period_end": period.end}
    if budget.scope == "tenant":
        if hourly:
            spent = await queries.sum_tenant_spend_hourly(conn, tenant_id=budget.scope_id, **bounds)
        else:
            spent = await queries.sum_tenant_spend(conn, tenant_id=budget.scope_id, **bounds)
    elif hourly:
        spent = await queries.sum_key_spend_hourly(conn, key_id=budget.scope_id, **bounds)
    else:
        spent = await queries.sum_key_spend(conn, key_id=budget.scope_id, **bounds)
    return int(spent or 0)
