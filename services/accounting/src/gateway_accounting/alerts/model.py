"""What an alert says, and the interface every channel's sender implements."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from gateway_accounting.budgets.control_catalog import AlertChannel


class DeliveryFailed(Exception):
    """Sending an alert failed; `permanent` ones (refused address, 4xx, redirect) are not retried."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True)
class BudgetAlert:
    """A budget crossed `threshold` percent of its limit in the period starting at `period_start`."""

    delivery_id: int
    budget_id: uuid.UUID
    scope: str
    scope_id: uuid.UUID
    threshold: int
    limit_micro_usd: int
    spent_micro_usd: int
    period: str
    timezone: str
    hard: bool
    period_start: datetime
    resets_at: datetime
    # A test alert asked for from the console: no budget crossed anything (see alerts/channel_check.py).
    test: bool = False

    def as_json(self, sent_at: datetime) -> dict[str, object]:
        """The alert as the JSON object a webhook receives (and an email describes)."""
        return {
            "type": "alert.test" if self.test else "budget.threshold_crossed",
            "test": self.test,
            "delivery_id": self.delivery_id,
            "budget_id": str(self.budget_id),
            "scope": self.scope,
            "scope_id": str(self.scope_id),
            "threshold_percent": self.threshold,
            "limit_micro_usd": self.limit_micro_usd,
            "spent_micro_usd": self.spent_micro_usd,
            "hard": self.hard,
            "period": self.period,
            "timezone": self.timezone,
            "period_start": self.period_start.isoformat(),
            "resets_at": self.resets_at.isoformat(),
            "sent_at": sent_at.isoformat(),
        }

    def summary(self) -> str:
        """One line for a human: which budget, how far, until when."""
        if self.test:
            return "TEST ALERT from Open Model Gateway: this channel works. No budget was crossed."
        return (
            f"Budget {self.budget_id} ({self.scope} {self.scope_id}) reached {self.threshold}% of its "
            f"{self.period} limit: {_usd(self.spent_micro_usd)} of {_usd(self.limit_micro_usd)}; "
            f"it resets at {self.resets_at.isoformat()}."
        )


def _usd(micro: int) -> str:
    return f"${micro // 1_000_000}.{micro % 1_000_000:06d}"


class AlertSender(Protocol):
    """Sends one alert to one channel, once; raises DeliveryFailed (retries are the caller's)."""

    async def send(self, alert: BudgetAlert, channel: AlertChannel) -> None: ...
