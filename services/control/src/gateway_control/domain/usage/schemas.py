"""Usage payloads (totals, breakdowns and the request log, all from the accounting service)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

import msgspec

# What a breakdown can group by (accounting's rollups have no user dimension yet).
UsageGroupBy = Literal["tenant", "key", "model", "provider", "day"]


class UsageSummary(msgspec.Struct):
    """Totals over the requested window; cost in integer micro-USD."""

    requests: int
    prompt_tokens: int
    completion_tokens: int
    cost_micro_usd: int
    errors: int


class UsageGroup(msgspec.Struct):
    """One group of a breakdown: a tenant or key id, a model or provider name, or a YYYY-MM-DD day."""

    key: str
    usage: UsageSummary


class UsageBreakdown(msgspec.Struct):
    """Totals per group, in the order accounting returns them."""

    group_by: UsageGroupBy
    groups: list[UsageGroup]


class UsageRequest(msgspec.Struct):
    """One finished request of the request log (no prompt or completion text is ever kept)."""

    request_id: str
    finished_at: datetime
    tenant_id: uuid.UUID
    key_id: uuid.UUID
    model: str
    provider: str
    status_code: int
    prompt_tokens: int
    completion_tokens: int
    cost_micro_usd: int
    stream: bool
    latency_ms: int


class UsageRequestPage(msgspec.Struct):
    """A page of the request log, newest first; pass next_page_token to get the next one."""

    items: list[UsageRequest]
    next_page_token: str | None
