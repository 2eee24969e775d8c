"""Alert history payloads (stored and served by the accounting service)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

import msgspec

AlertDeliveryStatus = Literal["pending", "sent", "failed"]


class BudgetAlert(msgspec.Struct):
    """One budget alert to one channel: the threshold crossed, what it reported, how delivery went."""

    id: int
    budget_id: uuid.UUID
    # None for a key budget whose key's tenant accounting did not know when the alert fired.
    tenant_id: uuid.UUID | None
    scope: Literal["tenant", "key"]
    scope_id: uuid.UUID
    threshold_percent: int
    period: str
    period_start: datetime
    period_end: datetime
    limit_micro_usd: int
    spent_micro_usd: int
    channel_id: uuid.UUID
    channel_kind: str
    status: AlertDeliveryStatus
    attempts: int
    last_error: str | None
    created_at: datetime
    finished_at: datetime | None


class BudgetAlertPage(msgspec.Struct):
    """A page of the alert history, newest first; pass next_page_token to get the next one."""

    items: list[BudgetAlert]
    next_page_token: str | None
