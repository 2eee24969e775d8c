"""Hard budgets: reserve each request's estimated maximum cost before it is forwarded.

`BudgetPlanner.plan` prices the most a request can cost — its prompt tokens (`TokenEstimator`)
plus `max_completion_tokens` / `max_tokens` (times `n`), or BUDGET_DEFAULT_MAX_OUTPUT_TOKENS when
the client set none, at the model's highest input and output prices — and names the hard
budgets of the key and its tenant with their current periods. The `Reservation` travels into
the rate limits' Lua call (`limits.lua`), which admits the request only when, for every
budget, `spent + reserved + amount <= limit`, and then holds `amount` under a fresh hold id.

The usage event carries the holds (`UsageEvent.budget_holds`, `reserved_micro_usd`); accounting
adds the actual cost to the spend counter, then releases them. A request that ends without a
usage event (refused before reaching a provider) is released here (`BudgetReleaser`).
Successful responses carry `x-gateway-budget-remaining-usd` and `x-gateway-budget-reset` of
the tightest budget; an exhausted one is `QuotaExceeded` (429 `insufficient_quota`).
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

import redis.asyncio as aioredis
from gateway_common.budget_holds import (
    COUNTER_GRACE_S,
    COUNTERS_READY_KEY,
    RELEASE_HOLDS_LUA,
    BudgetKeys,
    budget_keys,
)
from gateway_common.budget_periods import BudgetPeriod, InvalidPeriod, budget_period
from gateway_proto.v1.budget_pb2 import BudgetHold
from gateway_proto.v1.pricing_pb2 import ModelPricing
from redis.exceptions import RedisError

from gateway_proxy.budget_index import BudgetIndex, HardBudget
from gateway_proxy.errors import QuotaExceeded
from gateway_proxy.tokens import TokenEstimator, positive_int

log = logging.getLogger(__name__)

REMAINING_HEADER = "x-gateway-budget-remaining-usd"
RESET_HEADER = "x-gateway-budget-reset"
# Endpoints whose reply is generated text, charged at the output price.
_TEXT_ENDPOINTS = frozenset({"chat_completions", "completions"})
_PRICE_UNIT = 1_000_000


def format_usd(micro_usd: int) -> str:
    """Micro-USD as an exact decimal dollar string: 1_500_000 -> `1.500000` (never negative)."""
    value = max(micro_usd, 0)
    return f"{value // 1_000_000}.{value % 1_000_000:06d}"


def format_reset(moment: datetime) -> str:
    """A reset time as RFC 3339 UTC: `2026-12-01T00:00:00Z`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def max_cost_micro_usd(pricing: ModelPricing, prompt_tokens: int, output_tokens: int) -> int:
    """The most `prompt_tokens` in and `output_tokens` out can cost, rounded up (at least 1).

    Every prompt token is priced at the highest of the input, cached-input and cache-write
    prices, every output token at the higher of the output and reasoning prices, so the actual
    cost (accounting's `cost.py`) of those counts can only be lower.
    """
    input_price = max(
        pricing.input_micro_usd_per_mtok,
        pricing.cached_input_micro_usd_per_mtok,
        pricing.cache_write_input_micro_usd_per_mtok,
    )
    output_price = max(pricing.output_micro_usd_per_mtok, pricing.reasoning_micro_usd_per_mtok)
    numerator = prompt_tokens * input_price + output_tokens * output_price
    return max(1, -(-numerator // _PRICE_UNIT))


@dataclass(frozen=True, slots=True)
class BudgetCharge:
    """One budget a reservation holds against, in its current period."""

    budget: HardBudget
    period: BudgetPeriod
    keys: BudgetKeys

    @property
    def period_start_unix(self) -> int:
        """The period's start, as the Redis keys and the usage event name it."""
        return int(self.period.start.timestamp())


@dataclass(slots=True)
class Reservation:
    """The estimated maximum cost of one request, held against each of its hard budgets."""

    hold_id: str
    amount: int
    charges: tuple[BudgetCharge, ...]
    hold_ttl_ms: int
    remaining: tuple[int, ...] = ()  # micro-USD left per budget after this hold (set on admission)
    reported: bool = field(default=False)  # a usage event carries the holds: accounting releases them

    def keys(self) -> list[str]:
        """The keys limits.lua takes after the rate-limit keys: 4 per budget, then the sentinel."""
        per_budget = [
            k for c in self.charges for k in (c.keys.spent, c.keys.reserved, c.keys.holds, c.keys.leases)
        ]
        return [*per_budget, COUNTERS_READY_KEY]

    def args(self) -> list[str | int]:
        """limits.lua's budget arguments: hold id, amount, hold TTL, then per budget its figures."""
        args: list[str | int] = [self.hold_id, self.amount, self.hold_ttl_ms]
        for charge in self.charges:
            end = charge.period.end
            args += [
                charge.budget.limit_micro_usd,
                int(end.timestamp() * 1000),
                int(end.timestamp()) + COUNTER_GRACE_S,
            ]
        return args

    def admitted(self, remaining: list[object]) -> None:
        """Record what the script left in each budget."""
        self.remaining = tuple(int(str(v)) for v in remaining[: len(self.charges)])

    def headers(self) -> dict[str, str]:
        """The remaining budget and its reset time, of the budget with the least left."""
        if not self.remaining:
            return {}
        index = min(range(len(self.remaining)), key=self.remaining.__getitem__)
        return {
            REMAINING_HEADER: format_usd(self.remaining[index]),
            RESET_HEADER: format_reset(self.charges[index].period.end),
        }

    def refusal(self, index: int, left: int) -> QuotaExceeded:
        """The 429 for budget number `index` (1-based, as limits.lua counts) with `left` micro-USD."""
        charge = self.charges[index - 1]
        budget = charge.budget
        resets = format_reset(charge.period.end)
        return QuotaExceeded(
            f"You exceeded your current quota: {budget.describe()} of ${format_usd(budget.limit_micro_usd)} "
            f"has ${format_usd(left)} left, less than this request may cost "
            f"(${format_usd(self.amount)}). It resets at {resets}.",
            headers={REMAINING_HEADER: format_usd(left), RESET_HEADER: resets},
        )

    def holds(self) -> list[BudgetHold]:
        """The holds as the usage event names them, for accounting to release."""
        return [
            BudgetHold(budget_id=c.budget.id, period_start_unix=c.period_start_unix, hold_id=self.hold_id)
            for c in self.charges
        ]


class BudgetPlanner:
    """Prices a request's worst case and names the hard budgets it must be reserved against."""

    def __init__(
        self,
        estimator: TokenEstimator,
        *,
        default_output_tokens: int,
        hold_ttl_s: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._estimator = estimator
        self._default_output_tokens = default_output_tokens
        self._hold_ttl_ms = int(hold_ttl_s * 1000)
        self._clock = clock

    async def plan(
        self,
        budgets: BudgetIndex,
        key_id: str,
        tenant_id: str,
        pricing: ModelPricing,
        endpoint: str,
        body: Mapping[str, object],
    ) -> Reservation | None:
        """The reservation this request needs, or None when no hard budget applies.

        Async only to await the token estimator's first load, and only when a budget applies.
        """
        applicable = budgets.applicable(key_id, tenant_id)
        if not applicable:
            return None
        now = datetime.fromtimestamp(self._clock(), UTC)
        charges = []
        for budget in applicable:
            try:
                period = budget_period(budget.period, budget.timezone, now, budget.rolling_days)
            except InvalidPeriod as exc:
                log.error("hard budget %s not enforced: %s", budget.id, exc)
                continue
            keys = budget_keys(budget.id, int(period.start.timestamp()))
            charges.append(BudgetCharge(budget, period, keys))
        if not charges:
            return None
        await self._estimator.ready()
        amount = max_cost_micro_usd(
            pricing, self._estimator.prompt_tokens(body), self._output_tokens(endpoint, body)
        )
        return Reservation(uuid.uuid4().hex, amount, tuple(charges), self._hold_ttl_ms)

    def _output_tokens(self, endpoint: str, body: Mapping[str, object]) -> int:
        if endpoint not in _TEXT_ENDPOINTS:
            return 0
        asked = positive_int(body.get("max_completion_tokens")) or positive_int(body.get("max_tokens"))
        choices = positive_int(body.get("n")) or 1
        return (asked or self._default_output_tokens) * choices


class BudgetReleaser:
    """Releases the holds of requests that end without a usage event (errors only logged)."""

    def __init__(self, redis: aioredis.Redis, timeout_s: float) -> None:
        self._release = redis.register_script(RELEASE_HOLDS_LUA)
        self._timeout_s = timeout_s

    async def release(self, reservation: Reservation) -> None:
        """Drop the reservation's holds; a failure leaves them to expire with their lease."""
        keys = [k for c in reservation.charges for k in c.keys.hold_keys]
        try:
            async with asyncio.timeout(self._timeout_s):
                await self._release(keys=keys, args=[reservation.hold_id] * len(reservation.charges))
        except (RedisError, OSError, TimeoutError) as exc:
            log.warning("could not release a budget reservation (it expires by itself): %r", exc)
