"""Budget payloads: a spending limit on a tenant or one of its keys, in integer micro-USD."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

import msgspec

from gateway_control.domain._types import MicroUsd

Scope = Literal["tenant", "key"]
Period = Literal["daily", "weekly", "monthly", "rolling"]
RollingDays = Annotated[int, msgspec.Meta(ge=1, le=366)]
TimeZone = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_+/-]+$")]
Thresholds = Annotated[
    list[Annotated[int, msgspec.Meta(ge=1, le=1000)]], msgspec.Meta(min_length=0, max_length=20)
]
DEFAULT_THRESHOLDS = [50, 80, 100]


class BudgetCreate(msgspec.Struct, forbid_unknown_fields=True):
    """A new budget: `scope` "tenant" caps the path's tenant, "key" caps `key_id` (one of its keys).

    Calendar periods (daily, weekly = ISO week, monthly) are cut in `timezone`; "rolling" counts
    the last `rolling_days` local days. A hard budget blocks requests (429 insufficient_quota);
    a soft one only alerts. Alerts fire at each threshold, in percent of the limit.
    """

    limit_micro_usd: MicroUsd
    period: Period
    scope: Scope = "tenant"
    key_id: uuid.UUID | None = None
    rolling_days: RollingDays | None = None
    timezone: TimeZone = "UTC"
    hard: bool = True
    thresholds: Thresholds = msgspec.field(default_factory=lambda: list(DEFAULT_THRESHOLDS))


class BudgetUpdate(msgspec.Struct, forbid_unknown_fields=True):
    """Changes to a budget; omitted fields stay as they are (its scope cannot change)."""

    limit_micro_usd: MicroUsd | None = None
    period: Period | None = None
    rolling_days: RollingDays | None = None
    timezone: TimeZone | None = None
    hard: bool | None = None
    thresholds: Thresholds | None = None


class Budget(msgspec.Struct):
    """A budget as the API shows it."""

    id: uuid.UUID
    tenant_id: uuid.UUID
    scope: str
    scope_id: uuid.UUID
    limit_micro_usd: int
    period: str
    rolling_days: int | None
    timezone: str
    hard: bool
    thresholds: list[int]
    created_at: datetime
    updated_at: datetime


class BudgetList(msgspec.Struct):
    """A tenant's budgets and its keys' budgets."""

    items: list[Budget]
