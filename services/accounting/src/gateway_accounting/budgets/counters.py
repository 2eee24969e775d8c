"""Budget spend counters in Redis, for the proxy's reservations (see the README's key layout).

`gw:budget:{budget_id}:{period_start_unix}:spent` holds the micro-USD spent in the budget's
period starting at that Unix second (UTC). Accounting is its only writer:

- after each committed batch, `add` increments the counters of the periods the new rows fall in,
  but only counters that exist (a Lua script, atomic): a missing counter (new period, Redis
  restarted, key evicted) is instead rebuilt from Postgres with `SET NX`, whose total already
  includes the rows just committed;
- `correct` adds a drift found by the reconcile (a crash between commit and increment).

Every counter expires a day after its period ends.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import redis.asyncio as aioredis

from gateway_accounting.budgets.periods import BudgetPeriod

# How long a counter outlives its period: late readers (a reservation racing the reset) still
# find it, and Redis forgets it afterwards.
COUNTER_GRACE = timedelta(days=1)

# Increment only an existing counter; answer nil when it is missing so the caller rebuilds it.
_INCR_IF_EXISTS = """
if redis.call('EXISTS', KEYS[1]) == 1 then
  return redis.call('INCRBY', KEYS[1], ARGV[1])
end
return false
"""


def spent_key(budget_id: uuid.UUID, period_start: datetime) -> str:
    """The Redis key of a budget's spend counter for the period starting at `period_start`."""
    return f"gw:budget:{budget_id}:{int(period_start.timestamp())}:spent"


def expires_at(period: BudgetPeriod) -> int:
    """Unix second at which a period's counter expires."""
    return int((period.end + COUNTER_GRACE).timestamp())


class BudgetCounters:
    """The spend counters; every method may raise redis errors (the caller degrades)."""

    def __init__(self, client: aioredis.Redis) -> None:
        self._client = client
        self._incr = client.register_script(_INCR_IF_EXISTS)

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

    async def ping(self) -> bool:
        """Whether Redis answers right now."""
        return bool(await self._client.ping())

    async def close(self) -> None:
        """Close the Redis connections."""
        await self._client.aclose()
