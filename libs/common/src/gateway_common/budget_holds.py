"""Budget counters and reservations in Redis: the key layout the proxy and accounting share.

Per budget and period (`period_start_unix`, from `budget_periods`):

    gw:budget:{id}:{start}:spent     STRING  micro-USD spent (accounting's only; rebuilt from Postgres)
    gw:budget:{id}:{start}:reserved  STRING  sum of the live holds below
    gw:budget:{id}:{start}:holds     HASH    hold id -> micro-USD held for one request
    gw:budget:{id}:{start}:leases    ZSET    hold id, scored by the hold's expiry (Unix ms)

The proxy admits a request only when `spent + reserved + estimate <= limit` and then adds a
hold (proxy's limits.lua, the same round trip as the rate limits). Accounting, after storing
the request's usage and adding its cost to `spent`, releases the hold with `RELEASE_HOLDS_LUA`
(so the cost is counted twice for a moment, never zero times). A request that ends without a
usage event is released by the proxy with the same script; a hold nobody releases (a crashed
proxy) expires with its lease and is dropped by the next admission.

    gw:budget:counters-ready  STRING  set by accounting once every hard budget's current
                                      counter has been written from Postgres

A missing `spent` counter reads as 0, which is right for a period that has just begun and wrong
after Redis lost its data. The sentinel tells the two apart: Redis restarted empty has lost it
too, so the proxy refuses budgeted requests (503 `budget_unavailable`) until accounting — which
checks the sentinel every second — has rebuilt the counters and set it again.
"""

from __future__ import annotations

from dataclasses import dataclass

# Present once accounting has (re)built every hard budget's counter from Postgres.
COUNTERS_READY_KEY = "gw:budget:counters-ready"

# How long counters outlive their period: late readers (a reservation racing the reset) still
# find them, and Redis forgets them afterwards.
COUNTER_GRACE_S = 86_400

# KEYS: (reserved, holds, leases) per hold; ARGV[i]: the hold id of the i-th triple.
# Returns the micro-USD released. Releasing a hold that is gone (expired, released) does nothing.
RELEASE_HOLDS_LUA = """
local released = 0
for i = 1, #KEYS, 3 do
  local id = ARGV[(i + 2) / 3]
  local held = redis.call('HGET', KEYS[i + 1], id)
  if held then
    redis.call('HDEL', KEYS[i + 1], id)
    redis.call('ZREM', KEYS[i + 2], id)
    if redis.call('DECRBY', KEYS[i], held) < 0 then redis.call('SET', KEYS[i], 0, 'KEEPTTL') end
    released = released + tonumber(held)
  end
end
return released
"""


@dataclass(frozen=True, slots=True)
class BudgetKeys:
    """The Redis keys of one budget's period."""

    spent: str
    reserved: str
    holds: str
    leases: str

    @property
    def hold_keys(self) -> tuple[str, str, str]:
        """The (reserved, holds, leases) triple `RELEASE_HOLDS_LUA` takes."""
        return (self.reserved, self.holds, self.leases)


def budget_keys(budget_id: str, period_start_unix: int) -> BudgetKeys:
    """The keys of budget `budget_id` for the period starting at `period_start_unix` (UTC seconds)."""
    base = f"gw:budget:{budget_id}:{period_start_unix}"
    return BudgetKeys(f"{base}:spent", f"{base}:reserved", f"{base}:holds", f"{base}:leases")
