"""Test alerts: one clearly-marked alert sent at once to one channel, on an admin's request.

The channel is read from control's table by id (paused channels too, so a channel can be checked
before it is enabled) and the alert goes through the same sender the dispatcher uses for that
channel's kind: the same signature, the same SSRF guard, the same SMTP relay. It is tried once,
never retried, and not written to the alert history. The webhook body has `"type": "alert.test"`,
`"test": true` and delivery id 0 (receivers should not deduplicate on it); the email's subject
starts with "[TEST]".
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from gateway_accounting.alerts.model import AlertSender, BudgetAlert, DeliveryFailed
from gateway_accounting.budgets.control_catalog import AlertChannel, load_alert_channel
from gateway_accounting.database import Database
from gateway_accounting.errors import AccountingError

log = logging.getLogger(__name__)

_NIL = uuid.UUID(int=0)


class ChannelNotFound(AccountingError):
    """No alert channel has this id (or the id is not a UUID)."""


@dataclass(frozen=True)
class ChannelCheckResult:
    """How a test alert went: delivered, or the sender's reason."""

    delivered: bool
    error: str = ""


def build_test_alert(channel: AlertChannel, now: datetime) -> BudgetAlert:
    """A test alert for `channel`: 100% of a $1.00 daily budget, marked `test` everywhere."""
    return BudgetAlert(
        delivery_id=0,
        budget_id=_NIL,
        scope="tenant" if channel.tenant_id else "platform",
        scope_id=channel.tenant_id or _NIL,
        threshold=100,
        limit_micro_usd=1_000_000,
        spent_micro_usd=1_000_000,
        period="daily",
        timezone="UTC",
        hard=False,
        period_start=now,
        resets_at=now,
        test=True,
    )


class ChannelChecker:
    """Sends test alerts through the dispatcher's senders."""

    def __init__(self, database: Database, senders: Mapping[str, AlertSender]) -> None:
        self._database = database
        self._senders = senders

    async def send_test_alert(self, channel_id: str) -> ChannelCheckResult:
        """Send one test alert to the channel; raises ChannelNotFound for an unknown channel."""
        try:
            parsed = uuid.UUID(channel_id)
        except ValueError as exc:
            raise ChannelNotFound(f"no alert channel {channel_id!r}") from exc
        channel = await load_alert_channel(self._database.pool, parsed)
        if channel is None:
            raise ChannelNotFound(f"no alert channel {channel_id}")
        sender = self._senders.get(channel.kind)
        if sender is None:
            return ChannelCheckResult(False, f"no sender for channel kind {channel.kind!r}")
        try:
            await sender.send(build_test_alert(channel, datetime.now(UTC)), channel)
        except DeliveryFailed as exc:
            log.info("test alert to channel %s failed: %s", channel.id, exc)
            return ChannelCheckResult(False, str(exc))
        log.info("test alert delivered to channel %s", channel.id)
        return ChannelCheckResult(True)
