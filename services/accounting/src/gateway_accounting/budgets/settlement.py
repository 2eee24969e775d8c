"""Settling committed usage against budgets: Redis counters, drift reconcile, alert checks.

The consumer hands every batch of *newly stored* rows to `submit` after its commit; it never
waits for Redis. `run` (a task of the app's task group) drains those batches:

- for each budget a row counts against, in the budget's current period, the row's cost is
  added to the period's Redis counter (`counters.py`); a missing counter is rebuilt from
  Postgres, which already holds the batch;
- the budget's new spend is checked against its alert thresholds;
- then the proxy's reservations for those rows (`UsageRow.budget_holds`) are released, so the
  cost moves from "reserved" to "spent" without ever being counted by neither.

Every ACCOUNTING_BUDGET_REFRESH_S it reloads the budgets and channels from control's tables;
every ACCOUNTING_BUDGET_RECONCILE_S it also compares each current
counter with Postgres. A counter that disagrees by the same amount on two passes in a row is
corrected by that amount (INCRBY, so increments landing meanwhile are kept): a one-off
difference is usually a batch committed but not yet added, a persistent one is a crash between
commit and increment. Thresholds are checked from Postgres there too, so alerts fire even while
Redis is down. Redis down only degrades budgets: counters are skipped and rebuilt later.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from functools import partial

import redis.exceptions

from gateway_accounting.alerts.dispatcher import AlertDispatcher
from gateway_accounting.budgets.book import BudgetBook
from gateway_accounting.budgets.control_catalog import Budget
from gateway_accounting.budgets.counters import BudgetCounters, reserved_key, spent_key
from gateway_accounting.budgets.periods import BudgetPeriod, InvalidPeriod, budget_period
from gateway_accounting.budgets.spend import period_spend
from gateway_accounting.database import Database
from gateway_accounting.errors import is_transient_db_error
from gateway_accounting.events import UsageRow
from gateway_accounting.metrics import AccountingMetrics

log = logging.getLogger(__name__)

REDIS_ERRORS = (redis.exceptions.RedisError, OSError)


# How often the counters-ready sentinel is looked for (a Redis restarted empty has lost it).
_READY_CHECK_S = 1.0


def _now() -> datetime:
    return datetime.now(UTC)


class BudgetSettler:
    """Keeps budget counters and alerts in step with the usage stored."""

    def __init__(
        self,
        database: Database,
        book: BudgetBook,
        counters: BudgetCounters | None,
        alerts: AlertDispatcher,
        metrics: AccountingMetrics,
        *,
        refresh_s: float,
        reconcile_s: float,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self._database = database
        self._book = book
        self._counters = counters
        self._alerts = alerts
        self._metrics = metrics
        self._refresh_s = refresh_s
        self._reconcile_s = reconcile_s
        self._clock = clock
        self._queue: asyncio.Queue[list[UsageRow]] = asyncio.Queue()
        self._drift: dict[str, int] = {}
        self._stopping = asyncio.Event()

    def submit(self, rows: list[UsageRow]) -> None:
        """Queue newly stored rows for settlement; never blocks the consumer."""
        if rows:
            self._queue.put_nowait(rows)

    def stop(self) -> None:
        """Ask `run` to settle what is queued and return."""
        self._stopping.set()

    def period_of(self, budget: Budget) -> BudgetPeriod | None:
        """The budget's current period; None (logged) when control stored one we cannot read."""
        try:
            return budget_period(budget.period, budget.timezone, self._clock(), budget.rolling_days)
        except InvalidPeriod as exc:
            log.error("budget %s cannot be evaluated: %s", budget.id, exc)
            return None

    async def run(self) -> None:
        """Settle batches as they come, refresh and reconcile on their intervals, until stopped."""
        await self._database.wait_started()
        loop = asyncio.get_running_loop()
        next_refresh = next_reconcile = next_ready_check = 0.0
        while not self._stopping.is_set():
            now = loop.time()
            if now >= next_ready_check:
                # Redis restarted empty lost the sentinel with the counters: rebuild at once
                # (the proxies refuse budgeted requests until the sentinel is back).
                next_ready_check = now + _READY_CHECK_S
                if not await self._counters_ready():
                    next_reconcile = now
            if now >= next_reconcile:
                await self._guarded(self.reconcile, "reconcile")
                next_reconcile = now + self._reconcile_s
                next_refresh = now + self._refresh_s
            elif now >= next_refresh:
                await self._guarded(lambda: self._book.refresh(self._database.pool), "refresh")
                next_refresh = now + self._refresh_s
            try:
                rows = await asyncio.wait_for(self._queue.get(), timeout=min(0.5, self._refresh_s))
            except TimeoutError:
                continue
            while not self._queue.empty():
                rows.extend(self._queue.get_nowait())
            await self._guarded(partial(self.settle, rows), "settle")
        await self._drain()

    async def _drain(self) -> None:
        """Settle what the consumer queued before it stopped."""
        rows: list[UsageRow] = []
        while not self._queue.empty():
            rows.extend(self._queue.get_nowait())
        if rows:
            await self._guarded(partial(self.settle, rows), "settle")

    async def _guarded(self, work: Callable[[], Awaitable[None]], what: str) -> None:
        """Run one pass; an outage is logged and left to the next pass (the reconcile heals it)."""
        try:
            await work()
        except Exception as exc:
            if is_transient_db_error(exc):
                log.warning("budget %s skipped, Postgres unavailable: %s", what, exc)
            else:
                log.exception("budget %s failed", what)
            self._metrics.errors.labels("budgets").inc()

    async def settle(self, rows: Sequence[UsageRow]) -> None:
        """Add the rows' costs to the counters of the budgets and periods they count against.

        A row held against a budget the book does not know yet (created in control since the
        last refresh; the proxy learnt it first) reloads the book before anything is counted,
        so its cost is added to the counter before its hold is released.
        """
        if any(not self._book.knows(hold[0]) for row in rows for hold in row.budget_holds):
            await self._book.refresh(self._database.pool)
        owed: dict[uuid.UUID, int] = {}
        periods: dict[uuid.UUID, tuple[Budget, BudgetPeriod]] = {}
        for row in rows:
            for budget in self._book.affecting(row.tenant_id, row.key_id):
                if budget.id not in periods:
                    period = self.period_of(budget)
                    if period is None:
                        continue
                    periods[budget.id] = (budget, period)
                if periods[budget.id][1].contains(row.started_at):
                    owed[budget.id] = owed.get(budget.id, 0) + row.cost_micro_usd
        for budget_id, amount in owed.items():
            budget, period = periods[budget_id]
            spent = await self._add(budget, period, amount)
            await self._alerts.check(budget, period, spent)
        await self._release_holds(rows)

    async def _release_holds(self, rows: Sequence[UsageRow]) -> None:
        """Drop the proxy's reservations of rows whose cost is now in the counters.

        A failure only delays the release: each hold expires with its lease (BUDGET_HOLD_TTL_S
        at the proxy), so a budget is never blocked for good.
        """
        holds = [hold for row in rows for hold in row.budget_holds]
        if self._counters is None or not holds:
            return
        try:
            await self._counters.release_holds(holds)
        except REDIS_ERRORS as exc:
            self._metrics.errors.labels("redis").inc()
            log.warning("budget reservations not released (Redis): %s; they expire by themselves", exc)

    async def _add(self, budget: Budget, period: BudgetPeriod, amount: int) -> int:
        """Add to the counter (rebuilding it when missing) and return the spend; Postgres without Redis."""
        if self._counters is not None:
            key = spent_key(budget.id, period.start)
            try:
                value = await self._counters.add(key, amount) if amount else await self._counters.read(key)
                if value is not None:
                    return value
                total = await period_spend(self._database.pool, budget, period)
                self._metrics.budget_counter_rebuilds.inc()
                return await self._counters.rebuild(key, total, period)
            except REDIS_ERRORS as exc:
                self._metrics.errors.labels("redis").inc()
                log.warning("budget counters unavailable (Redis): %s; the reconcile will catch up", exc)
        return await period_spend(self._database.pool, budget, period)

    async def _counters_ready(self) -> bool:
        """Whether the counters-ready sentinel is in Redis (True when unknowable: no Redis)."""
        if self._counters is None:
            return True
        try:
            return await self._counters.ready()
        except REDIS_ERRORS:
            return True  # Redis is down: nothing to rebuild into yet; checked again in a second

    async def reconcile(self) -> None:
        """Reload budgets, correct persistent counter drift, and check every budget's thresholds.

        When every counter was written, the counters-ready sentinel is set: the proxies then
        trust a missing counter to mean "nothing spent yet in this period".
        """
        pool = self._database.pool
        await self._book.refresh(pool)
        await self._alerts.resend_stale(self._clock())
        all_written = self._counters is not None
        seen: set[str] = set()
        for budget in self._book.budgets:
            period = self.period_of(budget)
            if period is None:
                continue
            spent = await period_spend(pool, budget, period)
            if self._counters is not None:
                key = spent_key(budget.id, period.start)
                seen.add(key)
                try:
                    await self._reconcile_counter(key, spent, period)
                except REDIS_ERRORS as exc:
                    all_written = False
                    self._metrics.errors.labels("redis").inc()
                    log.warning("budget reconcile cannot reach Redis: %s", exc)
            await self._alerts.check(budget, period, spent)
        self._drift = {k: v for k, v in self._drift.items() if k in seen}
        if all_written and self._counters is not None:
            try:
                await self._counters.mark_ready()
            except REDIS_ERRORS as exc:
                log.warning("budget counters-ready sentinel not set (Redis): %s", exc)

    async def _reconcile_counter(self, key: str, spent: int, period: BudgetPeriod) -> None:
        assert self._counters is not None
        value = await self._counters.read(key)
        if value is None:
            self._metrics.budget_counter_rebuilds.inc()
            await self._counters.rebuild(key, spent, period)
            self._drift.pop(key, None)
            return
        drift = spent - value
        if drift == 0:
            self._drift.pop(key, None)
        elif self._drift.get(key) == drift:
            log.warning("budget counter %s drifted by %d micro-USD; corrected from Postgres", key, drift)
            self._metrics.budget_counter_corrections.inc()
            await self._counters.correct(key, drift)
            self._drift.pop(key, None)
        else:
            self._drift[key] = drift

    async def reserved(self, budget: Budget, period: BudgetPeriod) -> int:
        """Micro-USD the proxies hold for requests of this budget not settled yet (0 without Redis)."""
        if self._counters is None:
            return 0
        try:
            value = await self._counters.read(reserved_key(budget.id, period.start))
        except REDIS_ERRORS as exc:
            self._metrics.errors.labels("redis").inc()
            log.warning("budget reservations unavailable (Redis): %s", exc)
            return 0
        return max(value or 0, 0)

    async def spent(self, budget: Budget, period: BudgetPeriod) -> int:
        """The budget's exact spend in `period`, from Postgres."""
        return await period_spend(self._database.pool, budget, period)
