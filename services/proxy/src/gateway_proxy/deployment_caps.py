"""The provider account's own limits on a deployment (RPM / TPM), shared by every replica.

A deployment with `rpm_limit` or `tpm_limit` is asked for capacity before each attempt: one
Lua call (only for capped deployments — an uncapped one costs nothing) counts the request and
its estimated tokens in the current minute's window (`gw:dcap:{id}:{minute}`), atomically and
only when both fit. A deployment without room is skipped like an open breaker, so traffic
moves to the next deployment before the provider would answer 429.

Fail-open: when Redis does not answer within its timeout the attempt goes ahead — the provider
still enforces its own limit, and its 429 fails over like any other.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from gateway_proxy.runtime import DeploymentRuntime

log = logging.getLogger(__name__)

_WINDOW_S = 60
# KEYS: requests key, tokens key. ARGV: rpm limit, tpm limit, tokens, ttl. 0 limits are off.
_TAKE_LUA = """
local rpm, tpm, tokens = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local used_r = tonumber(redis.call('GET', KEYS[1]) or '0')
local used_t = tonumber(redis.call('GET', KEYS[2]) or '0')
if rpm > 0 and used_r + 1 > rpm then return 0 end
if tpm > 0 and used_t > 0 and used_t + tokens > tpm then return 0 end
redis.call('INCR', KEYS[1])
redis.call('INCRBY', KEYS[2], tokens)
redis.call('EXPIRE', KEYS[1], ARGV[4])
redis.call('EXPIRE', KEYS[2], ARGV[4])
return 1
"""


class DeploymentCaps:
    """Takes a request's share of a capped deployment's per-minute RPM/TPM."""

    def __init__(
        self, redis: aioredis.Redis, *, timeout_s: float, clock: Callable[[], float] = time.time
    ) -> None:
        self._redis = redis
        self._timeout_s = timeout_s
        self._clock = clock
        self._script = redis.register_script(_TAKE_LUA)

    async def take(self, deployment: DeploymentRuntime, tokens: int) -> bool:
        """True when the deployment has room for one more request of `tokens` this minute.

        A request larger than the whole TPM is admitted into an empty window (otherwise it
        could never be served).
        """
        if deployment.rpm_limit <= 0 and deployment.tpm_limit <= 0:
            return True
        minute = int(self._clock()) // _WINDOW_S
        keys = [f"gw:dcap:{deployment.id}:{minute}:r", f"gw:dcap:{deployment.id}:{minute}:t"]
        try:
            async with asyncio.timeout(self._timeout_s):
                taken = await self._script(
                    keys=keys,
                    args=[deployment.rpm_limit, deployment.tpm_limit, max(0, tokens), _WINDOW_S * 2],
                )
        except (RedisError, OSError, TimeoutError) as exc:
            log.warning("deployment cap check failed; allowing the attempt: %s", exc)
            return True
        return bool(taken)
