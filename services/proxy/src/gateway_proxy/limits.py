"""Rate limits shared by every proxy replica: RPM, TPM and max parallel requests.

Each request is admitted by one Lua script (`limits.lua`, EVALSHA, loaded once) that checks the
key's and its tenant's limits at once against sliding-window logs in Redis (`gw:rl:*`) and
records the admission only when every limit passes. Parallel slots are leases (a sorted set
scored by expiry) that this process renews while the request runs and releases when it ends;
the release also reconciles the TPM entry from the pre-call estimate to the actual usage
(`limits_release.lua`). A process that dies holds its slots at most `RATE_LIMIT_LEASE_TTL_S`.
The same admission call takes the request's hard-budget reservation when one applies
(`budgets.py`); refused, it raises QuotaExceeded, and without Redis it cannot fall back locally.

Limits come from the KeyRecord (`key_limits`, `tenant_limits`); 0 there means "use the
default", a negative value means unlimited. The default of a field is control's rate-limit default
from the snapshot (`default_key_limits`, `default_tenant_limits`) when non-zero, else the
`DEFAULT_*` setting; a `DEFAULT_*` of 0 is unlimited.

Redis outage policy. An admission call is given up when Redis has been silent for
`RATE_LIMIT_REDIS_TIMEOUT_S` (50 ms): no answer to this call, and no answer to any other
admission of this process, in that time. Time when this process's event loop was too busy to
hear an answer is not counted. Whatever else happens, the call is given up after `_MAX_WAIT_S`
(1 s). See `reply_deadline.py`. A call that also takes a budget reservation gets
`BUDGET_REDIS_TIMEOUT_S` of silence instead.
A request whose call failed is decided by local buckets (`limits_local.py`) at
limit ÷ `PROXY_REPLICAS`. A refused connection, or `_TRIP_AFTER` failures in a row, switch the
whole process to the local buckets without asking Redis, so nothing waits on a dead Redis. The
process tries Redis again every `RATE_LIMIT_OUTAGE_RETRY_S`, so it is back on the shared limits
within about a second of Redis returning. A lone timeout does not switch: it only lets that one
request be decided locally.

Why silence and not wall time: a request decided locally breaks the shared count. A script that
timed out may still run in Redis, and then the request is counted both there and in the local
bucket. So the limiter must not give up on a Redis that is answering. On a loaded host, wall time
mostly measures this process waiting for a CPU. With a 50 ms wall-clock timeout, 600 requests
spread over two proxies on the 2-core test host admitted more than 100 (101, 197) in 4 of 11
runs. Counting silence, 27 of 27 runs admitted exactly 100, 17 of them with one or two
CPU-bound processes added, and no request was decided locally. In the 14 runs that logged it,
the most silence any call reached was 27 ms of the 50.
A Redis that answers nothing (stopped with SIGSTOP, hung, or a peer that never replies) is still
given up on after 51-57 ms per request on an idle loop (20 requests at once on a loaded host:
at most 93 ms; tests/integration/test_limits_outage.py).
Retrying a timed-out call with the same lease id, with an idempotent script, was considered and
rejected. It prevents counting a script twice, but the retry waits on the same busy event loop
and times out like the first call. It would also require every write of limits.lua (rpm, tpm,
parallel lease, budget holds) to be idempotent. Once silence is what counts, double counting
happens only when Redis really stops answering, and then the limits are approximate anyway.
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import time
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.resources import files
from typing import cast

import redis.asyncio as aioredis
from gateway_proto.v1.config_pb2 import RateLimits
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from gateway_proxy.auth import Principal
from gateway_proxy.budgets import Reservation
from gateway_proxy.errors import RateLimited, ServiceUnavailable
from gateway_proxy.limits_local import LocalLimiter
from gateway_proxy.reply_deadline import Answers, reply_deadline
from gateway_proxy.script_batcher import ScriptBatcher

log = logging.getLogger(__name__)

WINDOW_MS = 60_000
_ADMIT_LUA = files("gateway_proxy").joinpath("limits.lua").read_text()
_RELEASE_LUA = files("gateway_proxy").joinpath("limits_release.lua").read_text()
_RENEW_LUA = """
local t = redis.call('TIME')
local expiry = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + tonumber(ARGV[1])
for i, key in ipairs(KEYS) do
  if redis.call('ZADD', key, 'XX', 'CH', expiry, ARGV[i + 1]) == 1 then
    redis.call('PEXPIRE', key, ARGV[1])
  end
end
return 1
"""
_REDIS_FAILURES = (RedisError, OSError, TimeoutError)
# Consecutive failed calls after which the process stops asking Redis for a while.
_TRIP_AFTER = 3
# However busy the host, an admission call is given up after this long (reply_deadline.py).
_MAX_WAIT_S = 1.0


@dataclass(frozen=True, slots=True)
class Limits:
    """The effective limits of one request (0 = unlimited)."""

    key_rpm: int = 0
    key_tpm: int = 0
    key_parallel: int = 0
    tenant_rpm: int = 0
    tenant_tpm: int = 0
    tenant_parallel: int = 0

    @property
    def any(self) -> bool:
        """Whether at least one limit applies."""
        return bool(
            self.key_rpm
            or self.key_tpm
            or self.key_parallel
            or self.tenant_rpm
            or self.tenant_tpm
            or self.tenant_parallel
        )

    @property
    def counts_tokens(self) -> bool:
        """Whether a TPM limit applies (only then is the prompt counted before the call)."""
        return bool(self.key_tpm or self.tenant_tpm)

    def as_args(self) -> tuple[int, int, int, int, int, int]:
        """The limits in the order the scripts take them."""
        return (
            self.key_rpm,
            self.key_tpm,
            self.key_parallel,
            self.tenant_rpm,
            self.tenant_tpm,
            self.tenant_parallel,
        )


def effective_limits(principal: Principal, defaults: Limits) -> Limits:
    """The key's and tenant's limits from the record, defaults filling the unset (0) ones."""

    def pick(value: int, default: int) -> int:
        return 0 if value < 0 else (value or default)

    key, tenant = principal.record.key_limits, principal.record.tenant_limits
    return Limits(
        key_rpm=pick(key.rpm, defaults.key_rpm),
        key_tpm=pick(key.tpm, defaults.key_tpm),
        key_parallel=pick(key.max_parallel, defaults.key_parallel),
        tenant_rpm=pick(tenant.rpm, defaults.tenant_rpm),
        tenant_tpm=pick(tenant.tpm, defaults.tenant_tpm),
        tenant_parallel=pick(tenant.max_parallel, defaults.tenant_parallel),
    )


def with_snapshot_defaults(env: Limits, key: RateLimits, tenant: RateLimits) -> Limits:
    """The defaults in force: the snapshot's (control's) where non-zero, else the `DEFAULT_*` ones."""
    return Limits(
        key_rpm=key.rpm or env.key_rpm,
        key_tpm=key.tpm or env.key_tpm,
        key_parallel=key.max_parallel or env.key_parallel,
        tenant_rpm=tenant.rpm or env.tenant_rpm,
        tenant_tpm=tenant.tpm or env.tenant_tpm,
        tenant_parallel=tenant.max_parallel or env.tenant_parallel,
    )


def limit_keys(key_id: str, tenant_id: str) -> list[str]:
    """The 8 Redis keys of the scripts: rpm, tpm, tps, par of the key, then of the tenant."""
    return [
        f"gw:rl:{scope}:{kind}"
        for scope in (f"k:{key_id}", f"t:{tenant_id}")
        for kind in ("rpm", "tpm", "tps", "par")
    ]


@lru_cache(maxsize=16_384)
def _script_keys(key_id: str, tenant_id: str) -> tuple[str, ...]:
    """`limit_keys`, formatted once per key and tenant (admissions repeat them)."""
    return tuple(limit_keys(key_id, tenant_id))


@dataclass(slots=True)
class Grant:
    """An admitted request: its lease, the estimate it was charged, and the headers to send."""

    lease_id: str
    keys: list[str]
    limits: Limits
    estimate: int
    headers: list[tuple[bytes, bytes]]  # encoded once, added to the response as they are
    local: bool = False
    actual: int | None = None  # set from the usage event when the request reached a provider
    released: bool = field(default=False)
    reservation: Reservation | None = None  # the hard-budget hold taken in the same call


def format_reset(ms: int) -> str:
    """OpenAI's reset duration format: `20ms`, `1.5s`, `6m0s`."""
    if ms < 1000:
        return f"{max(ms, 0)}ms"
    seconds = ms / 1000
    if seconds < 60:
        return f"{seconds:.3f}".rstrip("0").rstrip(".") + "s"
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes}m{rest}s"


def _int(value: object) -> int:
    """A script result's integer (hiredis gives an int; anything else is parsed from its text)."""
    return value if type(value) is int else int(str(value))


def rate_header_pairs(result: list[object]) -> list[tuple[bytes, bytes]]:
    """`x-ratelimit-*` headers from a script result, encoded for the response (a trio only for a
    limit that applies)."""
    req_limit, req_left, req_reset, tok_limit, tok_left, tok_reset = [_int(v) for v in result[3:9]]
    headers: list[tuple[bytes, bytes]] = []
    if req_limit:
        headers.append((b"x-ratelimit-limit-requests", b"%d" % req_limit))
        headers.append((b"x-ratelimit-remaining-requests", b"%d" % max(req_left, 0)))
        headers.append((b"x-ratelimit-reset-requests", format_reset(req_reset).encode()))
    if tok_limit:
        headers.append((b"x-ratelimit-limit-tokens", b"%d" % tok_limit))
        headers.append((b"x-ratelimit-remaining-tokens", b"%d" % max(tok_left, 0)))
        headers.append((b"x-ratelimit-reset-tokens", format_reset(tok_reset).encode()))
    return headers


def rate_headers(result: list[object]) -> dict[str, str]:
    """The same headers as text, for a refusal's error response."""
    return {name.decode(): value.decode() for name, value in rate_header_pairs(result)}


class BudgetUnavailable(ServiceUnavailable):
    """Redis could not take a budget reservation; the script may still have run, so the guards
    release the reservation's hold in the background (a hold that is not there is a no-op)."""

    def __init__(self, message: str, *, code: str, reservation: Reservation) -> None:
        super().__init__(message, code=code)
        self.reservation = reservation


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def refusal(result: list[object]) -> RateLimited:
    """The 429 for a refused admission, with Retry-After (whole seconds, at least 1)."""
    which = _text(result[1])
    retry_ms = _int(result[2])
    headers = rate_headers(result)
    headers["retry-after"] = str(max(1, math.ceil(retry_ms / 1000)))
    headers["retry-after-ms"] = str(max(retry_ms, 0))
    scope, _, kind = which.partition("_")
    message = {
        "rpm": "requests per minute",
        "tpm": "tokens per minute",
        "max_parallel": "parallel requests",
        "tpm_request_too_large": "tokens per minute (this request alone exceeds it)",
    }.get(kind, kind)
    return RateLimited(
        f"Rate limit reached for this {'API key' if scope == 'key' else 'organization'} on {message}. "
        f"Please try again in {format_reset(retry_ms)}.",
        headers=headers,
    )


class RateLimiter:
    """Admits requests against the shared limits; falls back to local buckets while Redis is out."""

    def __init__(
        self,
        redis: aioredis.Redis,
        *,
        replicas: int = 1,
        lease_ttl_s: float = 30.0,
        timeout_s: float = 0.05,
        outage_retry_s: float = 1.0,
        budget_timeout_s: float = 1.0,
        budget_fail_open: bool = False,
    ) -> None:
        self._redis = redis
        self._budget_timeout_s = budget_timeout_s
        self._budget_fail_open = budget_fail_open
        # Admissions and releases go out in pipelines (script_batcher.py).
        self._batcher = ScriptBatcher(redis, timeout_s=_MAX_WAIT_S)
        self._admit = self._batcher.script(_ADMIT_LUA)
        self._release = self._batcher.script(_RELEASE_LUA)
        self._renew = redis.register_script(_RENEW_LUA)
        self._lease_ttl_ms = int(lease_ttl_s * 1000)
        self._timeout_s = timeout_s
        self._outage_retry_s = outage_retry_s
        self._local = LocalLimiter(replicas=replicas, lease_ttl_s=lease_ttl_s, window_s=WINDOW_MS / 1000)
        self._redis_down_until = 0.0
        self._failures = 0
        self._answers = Answers()
        self._active: dict[str, Grant] = {}

    @property
    def degraded(self) -> bool:
        """Whether limits are currently enforced locally (Redis unreachable)."""
        return time.monotonic() < self._redis_down_until

    async def admit(
        self, principal: Principal, limits: Limits, tokens: int, reservation: Reservation | None = None
    ) -> Grant:
        """Admit one request or raise RateLimited / QuotaExceeded (429); `tokens` is the estimate.

        With a `reservation` the same script also holds its amount against the hard budgets.
        A reservation cannot be decided locally: while Redis is unreachable such a request is
        refused with BudgetUnavailable (503), or served unreserved when `budget_fail_open`.
        """
        lease_id = os.urandom(16).hex()
        keys = list(_script_keys(principal.key_id, principal.tenant_id))
        if not self.degraded:
            args: list[str | int] = [lease_id, tokens, self._lease_ttl_ms, WINDOW_MS, *limits.as_args()]
            timeout_s = self._timeout_s
            if reservation is not None:
                keys = keys + reservation.keys()
                args += reservation.args()
                timeout_s = max(timeout_s, self._budget_timeout_s)
            try:
                async with reply_deadline(timeout_s, self._answers, max_wait_s=_MAX_WAIT_S):
                    result = cast(list[object], await self._batcher.call(self._admit, keys, args))
            except _REDIS_FAILURES as exc:
                self._went_down(exc)
            else:
                self._came_back()
                if _int(result[0]) != 1:
                    refused = _text(result[1])
                    if reservation is not None and refused == "budget":
                        raise reservation.refusal(_int(result[9]), _int(result[10]))
                    if reservation is not None and refused == "budget_counters_missing":
                        # Redis lost the budget counters; accounting rebuilds them within seconds.
                        if self._budget_fail_open:
                            return await self.admit(principal, limits, tokens, None)
                        raise BudgetUnavailable(
                            "Budget counters are being rebuilt; the request was not sent. Please retry.",
                            code="budget_unavailable",
                            reservation=reservation,
                        )
                    raise refusal(result)
                grant = Grant(lease_id, keys[:8], limits, tokens, rate_header_pairs(result))
                if reservation is not None:
                    reservation.admitted(result[9:])
                    grant.reservation = reservation
                if limits.key_parallel or limits.tenant_parallel:
                    self._active[lease_id] = grant
                return grant
            keys = keys[:8]
        if reservation is not None and not self._budget_fail_open:
            raise BudgetUnavailable(
                "Budgets cannot be checked right now; the request was not sent. Please retry.",
                code="budget_unavailable",
                reservation=reservation,
            )
        result = self._local.admit(lease_id, keys, limits.as_args(), tokens)
        if _int(result[0]) != 1:
            raise refusal(result)
        return Grant(lease_id, keys, limits, tokens, rate_header_pairs(result), local=True)

    def release(self, grant: Grant) -> None:
        """Free the grant's parallel slot and reconcile its tokens, once.

        Nothing waits for a release: it is queued and sent with the next batch of releases
        (script_batcher.py); a failed batch is logged, its leases expire by
        their TTL. A grant decided locally is released in the local buckets at once.
        """
        if grant.released:
            return
        grant.released = True
        self._active.pop(grant.lease_id, None)
        if not grant.limits.any:
            return  # admitted for its budget reservation only: no rate-limit state to free
        actual = grant.estimate if grant.actual is None else grant.actual
        if grant.local:
            self._local.release(grant.lease_id, grant.keys, grant.estimate, actual)
            return
        self._batcher.submit(self._release, grant.keys, (grant.lease_id, grant.estimate, actual, WINDOW_MS))

    async def aclose(self) -> None:
        """Send the releases still queued and stop sending (shutdown)."""
        await self._batcher.aclose()

    async def renew_leases(self) -> None:
        """Keep this process's parallel leases alive (run in the task group, every TTL/3)."""
        while True:
            await asyncio.sleep(self._lease_ttl_ms / 3000)
            grants = list(self._active.values())
            if not grants:
                continue
            keys: list[str] = []
            leases: list[str] = []
            for grant in grants:
                for par_key in (grant.keys[3], grant.keys[7]):
                    keys.append(par_key)
                    leases.append(grant.lease_id)
            try:
                await self._renew(keys=keys, args=[self._lease_ttl_ms, *leases])
            except _REDIS_FAILURES as exc:
                log.warning("could not renew rate-limit leases: %r", exc)

    def _went_down(self, exc: BaseException) -> None:
        self._failures += 1
        refused = isinstance(exc, (RedisConnectionError, OSError)) and not isinstance(
            exc, (TimeoutError, RedisTimeoutError)
        )
        if self._failures < _TRIP_AFTER and not refused:
            log.warning("rate-limit call to Redis failed; this request is decided locally: %r", exc)
            return
        if not self._redis_down_until:
            log.error("Redis unreachable for rate limits; enforcing local limits (limit / replicas): %r", exc)
        self._redis_down_until = time.monotonic() + self._outage_retry_s

    def _came_back(self) -> None:
        self._answers.heard()
        self._failures = 0
        if self._redis_down_until:
            log.warning("Redis reachable again; shared rate limits restored")
            self._redis_down_until = 0.0
