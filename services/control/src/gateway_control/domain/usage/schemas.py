"""Usage summary payload (totals from the accounting service)."""

from __future__ import annotations

import msgspec


class UsageSummary(msgspec.Struct):
    """Totals over the requested window; cost in integer micro-USD."""

    requests: int
    prompt_tokens: int
    completion_tokens: int
    cost_micro_usd: int
    errors: int
