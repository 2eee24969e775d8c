"""Threshold crossings -> one claimed alert per budget, period and threshold -> every channel.

`check(budget, period, spent)` is called with a budget's spend whenever it may have changed (a
settled batch, a reconcile pass). For each threshold the spend has reached, ONE transaction
claims it (`accounting.budget_alerts`, unique per budget, period start and threshold: the first
replica wins, a second crossing in the same period finds it claimed) and writes one `pending`
row per channel into the alert history (`accounting.alert_deliveries`). Sending happens after the
commit, in background tasks, with exponential backoff; each row ends `sent` or `failed`. A row
left `pending` by a crash is taken over after STALE_AFTER and sent again, so an alert is
delivered at least once (the `X-Gateway-Delivery` id lets a webhook receiver drop a repeat).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from gateway_accounting.alerts.model import AlertSender, BudgetAlert, DeliveryFailed
from gateway_accounting.budgets.book import BudgetBook
from gateway_accounting.budgets.control_catalog import AlertChannel, Budget
from gateway_accounting.budgets.periods import BudgetPeriod
from gateway_accounting.database import Database
from gateway_accounting.db import alert_deliveries, budget_alerts
from gateway_accounting.db.tables import AlertDelivery
from gateway_accounting.metrics import AccountingMetrics

log = logging.getLogger(__name__)

STALE_AFTER = timedelta(minutes=5)


@dataclass(frozen=True)
class RetryPolicy:
    """Attempts per delivery (the first included) and the backoff between them."""

    attempts: int
    first_delay_s: float
    max_delay_s: float = 60.0


def crossed_thresholds(budget: Budget, spent: int) -> list[int]:
    """The thresholds (percent of the limit) that `spent` has reached; none before any spend."""
    if spent <= 0:
        return []
    return [t for t in budget.thresholds if spent * 100 >= budget.limit_micro_usd * t]


class AlertDispatcher:
    """Claims crossings and sends their alerts; `close` waits for the sends in flight."""

    def __init__(
        self,
        database: Database,
        book: BudgetBook,
        senders: Mapping[str, AlertSender],
        retry: RetryPolicy,
        metrics: AccountingMetrics,
    ) -> None:
        self._database = database
        self._book = book
        self._senders = senders
        self._retry = retry
        self._metrics = metrics
        # (budget, period start) -> thresholds known to be claimed: spares Postgres a claim per batch.
        self._claimed: dict[uuid.UUID, tuple[datetime, set[int]]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    async def check(self, budget: Budget, period: BudgetPeriod, spent: int) -> None:
        """Claim and send the alerts of every threshold `spent` reached and nobody claimed yet."""
        start, known = self._claimed.get(budget.id, (period.start, set()))
        if start != period.start:
            known = set()
        self._claimed[budget.id] = (period.start, known)
        for threshold in crossed_thresholds(budget, spent):
            if threshold in known:
                continue
            created = await self._claim(budget, period, threshold, spent)
            known.add(threshold)
            for delivery_id, channel in created:
                self._spawn(self._alert(delivery_id, budget, period, threshold, spent), channel)

    async def _claim(
        self, budget: Budget, period: BudgetPeriod, threshold: int, spent: int
    ) -> list[tuple[int, AlertChannel]]:
        channels = self._book.channels_for(budget)
        created: list[tuple[int, AlertChannel]] = []
        async with self._database.pool.acquire() as conn, conn.transaction():
            won = await budget_alerts.claim_budget_alert(
                conn,
                budget_id=budget.id,
                period_start=period.start,
                threshold=threshold,
                spent_micro_usd=spent,
            )
            if not won:
                return []
            for channel in channels:
                delivery_id = await alert_deliveries.insert_alert_delivery(
                    conn,
                    budget_id=budget.id,
                    period_start=period.start,
                    threshold=threshold,
                    channel_id=channel.id,
                    channel_kind=channel.kind,
                    scope=budget.scope,
                    scope_id=budget.scope_id,
                    period=budget.period,
                    period_end=period.end,
                    limit_micro_usd=budget.limit_micro_usd,
                    spent_micro_usd=spent,
                    tenant_id=budget.tenant_id,
                )
                if delivery_id is not None:
                    created.append((delivery_id, channel))
        self._metrics.budget_alerts.inc()
        log.warning(
            "budget %s reached %d%% of its limit (%d of %d micro-USD); alerting %d channel(s)",
            budget.id,
            threshold,
            spent,
            budget.limit_micro_usd,
            len(created),
            extra={"alert": "budget_threshold", "budget_id": str(budget.id), "threshold": threshold},
        )
        return created

    @staticmethod
    def _alert(
        delivery_id: int, budget: Budget, period: BudgetPeriod, threshold: int, spent: int
    ) -> BudgetAlert:
        return BudgetAlert(
            delivery_id=delivery_id,
            budget_id=budget.id,
            scope=budget.scope,
            scope_id=budget.scope_id,
            threshold=threshold,
            limit_micro_usd=budget.limit_micro_usd,
            spent_micro_usd=spent,
            period=budget.period,
            timezone=budget.timezone,
            hard=budget.hard,
            period_start=period.start,
            resets_at=period.end,
        )

    def _spawn(self, alert: BudgetAlert, channel: AlertChannel) -> None:
        task = asyncio.get_running_loop().create_task(self._deliver(alert, channel), name="alert-delivery")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, alert: BudgetAlert, channel: AlertChannel) -> None:
        """Send with retries, then record how it ended (a failure to record leaves it pending)."""
        sender = self._senders.get(channel.kind)
        attempts, error = 0, None
        delay = self._retry.first_delay_s
        while sender is not None:
            attempts += 1
            try:
                await sender.send(alert, channel)
            except DeliveryFailed as exc:
                error = str(exc)
                log.warning(
                    "alert %d to channel %s failed (attempt %d): %s",
                    alert.delivery_id,
                    channel.id,
                    attempts,
                    exc,
                )
                if exc.permanent or attempts >= self._retry.attempts:
                    break
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._retry.max_delay_s)
                continue
            error = None
            break
        else:
            error = f"no sender for channel kind {channel.kind!r}"
        status = "sent" if error is None else "failed"
        self._metrics.alert_deliveries.labels(channel.kind, status).inc()
        try:
            await alert_deliveries.finish_alert_delivery(
                self._database.pool, status=status, attempts=attempts, last_error=error, id=alert.delivery_id
            )
        except Exception:
            log.exception(
                "could not record alert delivery %d as %s; it will be sent again", alert.delivery_id, status
            )

    async def resend_stale(self, now: datetime | None = None) -> int:
        """Take over deliveries left pending by a crashed sender and send them; return how many."""
        older_than = (now or datetime.now(UTC)) - STALE_AFTER
        pool = self._database.pool
        taken = 0
        for row in await alert_deliveries.list_stale_pending_alert_deliveries(
            pool, older_than=older_than, limit=100
        ):
            if not await alert_deliveries.touch_alert_delivery(pool, id=row.id, older_than=older_than):
                continue  # another replica took it
            channel = self._book.channel(row.channel_id)
            if channel is None:
                await alert_deliveries.finish_alert_delivery(
                    pool, status="failed", attempts=0, last_error="channel no longer enabled", id=row.id
                )
                continue
            self._spawn(self._alert_from_row(row), channel)
            taken += 1
        return taken

    def _alert_from_row(self, row: AlertDelivery) -> BudgetAlert:
        budget = self._book.budget(row.budget_id)
        return BudgetAlert(
            delivery_id=row.id,
            budget_id=row.budget_id,
            scope=row.scope,
            scope_id=row.scope_id,
            threshold=row.threshold,
            limit_micro_usd=row.limit_micro_usd,
            spent_micro_usd=row.spent_micro_usd,
            period=row.period,
            timezone=budget.timezone if budget else "UTC",
            hard=budget.hard if budget else False,
            period_start=row.period_start,
            resets_at=row.period_end,
        )

    async def close(self, timeout_s: float) -> None:
        """Wait up to `timeout_s` for sends in flight, then cancel them (they stay pending)."""
        if not self._tasks:
            return
        _, late = await asyncio.wait(set(self._tasks), timeout=timeout_s)
        for task in late:
            task.cancel()
        await asyncio.gather(*late, return_exceptions=True)
