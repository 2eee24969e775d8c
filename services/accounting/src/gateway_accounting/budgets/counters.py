"""Budget spend counters in Redis, for the proxy's reservations (see the README's key layout).

`gw:budget:{budget_id}:{period_start_unix}:spent` holds the micro-USD spent in the budget's
period starting at that Unix second (UTC); the layout, shared with the proxy's reservations, is
in `gateway_common.budget_holds`. Accounting is the spend counter's only writer:

- after each committed batch, `add` increments the counters of the periods the new rows fall in,
  but only counters that exist (a Lua script, atomic): a missing counter (new period, Redis
  restarted, key evicted) is instead rebuilt from Postgres with `SET NX`, whose total already
  includes the rows just committed;
- `correct` adds a drift found by the reconcile (a crash between commit and increment);
- `release_holds` drops the proxy's reservations of the rows just added.

Every counter expires a day after its period ends.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import redis.asyncio as aioredis
from gateway_common.budget_holds import COUNTER_GRACE_S, COUNTERS_READY_KEY, RELEASE_HOLDS_LUA, budget_keys

from gateway_accounting.budgets.periods import BudgetPeriod

# How long a counter outlives its period: late readers (a reservation racing the reset) still
# find it, and Redis forgets it afterwards.
COUNTER_GRACE = timedelta(seconds=COUNTER_GRACE_S)

# Increment only an existing counter; answer nil when it is missing so the caller rebuilds it.
_INCR_IF_EXISTS = """
if redis.call('EXISTS', KEYS[1]) == 1 then
  return redis.call('INCRBY', KEYS[1], ARGV[1])
end
return false
"""


def spent_key(budget_id: uuid.UUID, period_start: datetime) -> str:
    """The Redis key of a budget's spend counter for the period starting at `period_start`."""
    return budget_keys(str(budget_id), int(period_start.timestamp())).spent


def reserved_key(budget_id: uuid.UUID, period_start: datetime) -> str:
    """The Redis key of the proxies' reservations against a budget's period."""
    return budget_keys(str(budget_id), int(period_start.timestamp())).reserved


def expires_at(period: BudgetPeriod) -> int:
    """Unix second at which a period's counter expires."""
    return int((period.end + COUNTER_GRACE).timestamp())


class BudgetCounters:
    """The spend counters; every method may raise redis errors (the caller degrades)."""

    def __init__(self, client: aioredis.Redis) -> None:
        self._client = client
        self._incr = client.register_script(_INCR_IF_EXISTS)
        self._release = client.register_script(RELEASE_HOLDS_LUA)

    async def add(self, key: str, amount: int) -> int | None:
        """Add `amount` to an existing counter and return its new value; None when it is missing."""
        value = await self._incr(keys=[key], args=[amount])
        return None if value is None else int(value)

    async def rebuild(self, key: str, total: int, period: BudgetPeriod) -> int:
        """Create a missing counter holding `total`; return the counter's value afterwards.

        When another writer created it first, theirs is kept (SET NX) and returned.
        """
        created = await self._client.set(key, total, nx=True, exat=expires_at(period))
        if created:
            return total
        return await self.read(key) or 0

    async def read(self, key: str) -> int | None:
        """The counter's value, None when it does not exist."""
        value = await self._client.get(key)
        return None if value is None else int(value)

    async def correct(self, key: str, delta: int) -> int:
        """Add a drift (positive or negative) found by the reconcile; return the new value."""
        return int(await self._client.incrby(key, delta))

    async def release_holds(self, holds: list[tuple[str, int, str]]) -> int:
        """Release the proxy's reservations `(budget_id, period_start_unix, hold_id)`; micro-USD freed.

        Called after the rows' costs were added to the spend counters, so the spend is never
        uncounted in between. Holds already gone (expired, released) are skipped.
        """
        if not holds:
            return 0
        keys = [k for budget_id, start, _ in holds for k in budget_keys(budget_id, start).hold_keys]
        return int(await self._release(keys=keys, args=[hold_id for _, _, hold_id in holds]))

    async def ready(self) -> bool:
        """Whether the counters-ready sentinel is there (gone: Redis lost the counters)."""
        return bool(await self._client.exists(COUNTERS_READY_KEY))

    async def mark_ready(self) -> None:
        """Set the sentinel: every hard budget's current counter is in Redis."""
        await self._client.set(COUNTERS_READY_KEY, "1")

    async def ping(self) -> bool:
        """Whether Redis answers right now."""
        return bool(await self._client.ping())

    async def close(self) -> None:
        """Close the Redis connections."""
        await self._client.aclose()
