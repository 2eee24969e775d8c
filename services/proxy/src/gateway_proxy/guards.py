"""The per-request guards after authentication: Idempotency-Key, then rate limits and budgets.

`Guards.run` wraps the forwarding of one authenticated, validated request:

1. Idempotency-Key (`idempotency.py`): replay a stored response, or refuse 409/422, or claim.
   A replay is answered before the rate limits, is not counted, and reaches no provider.
2. Rate limits (`limits.py`) and hard budgets (`budgets.py`): one Redis round trip admits the
   request and reserves its estimated maximum cost, or refuses it with 429 (no usage event,
   since the provider is never called).
3. The forward itself, wrapped in `GuardedResponse`, which adds the `x-ratelimit-*` and
   `x-gateway-budget-*` headers,
   records the bytes sent for the idempotency store, and — when the response ends, fails or
   the client leaves — releases the parallel lease, reconciles the TPM estimate with the
   usage event (`observe_usage`, called by the Forwarder, which also puts the budget holds in
   the event for accounting to settle) and stores or releases the claim. A budget hold that no
   usage event carries (the request never reached a provider) is released here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass, field

import httpx
import redis.asyncio as aioredis
from gateway_common.redis import connect_redis
from gateway_proto.v1.config_pb2 import RateLimits
from gateway_proto.v1.pricing_pb2 import ModelPricing
from gateway_proto.v1.usage_pb2 import UsageEvent
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from gateway_proxy import idempotency
from gateway_proxy.auth import Principal
from gateway_proxy.budget_index import BudgetIndex
from gateway_proxy.budgets import BudgetPlanner, BudgetReleaser
from gateway_proxy.idempotency import Claim, IdempotencyStore, StoredResponse
from gateway_proxy.limits import (
    BudgetUnavailable,
    Grant,
    Limits,
    RateLimiter,
    effective_limits,
    with_snapshot_defaults,
)
from gateway_proxy.settings import ProxySettings
from gateway_proxy.tokens import TokenEstimator, estimate_tokens

log = logging.getLogger(__name__)

Forward = Callable[[], Awaitable[Response]]

# Principals whose effective limits are kept; with more keys in use, the cache starts over.
_EFFECTIVE_CACHE_SIZE = 16_384


@dataclass(slots=True)
class _InFlight:
    """What the guards hold for one request until its response has ended."""

    grant: Grant | None
    claim: Claim | None
    record_limit: int = 0  # most response bytes recorded for the idempotency store
    usage_error: str | None = None
    status: int = 0
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    chunks: list[bytes] = field(default_factory=list)
    size: int = 0
    complete: bool = False
    oversized: bool = False


class Guards:
    """Idempotency and rate limits around the forwarding of a request."""

    def __init__(
        self,
        limiter: RateLimiter,
        idempotency_store: IdempotencyStore,
        defaults: Limits,
        limits_redis: aioredis.Redis | None = None,
        key_control: httpx.AsyncClient | None = None,
        planner: BudgetPlanner | None = None,
        releaser: BudgetReleaser | None = None,
    ) -> None:
        self.limiter = limiter
        self._planner = planner
        self._releaser = releaser
        # Clients the guards own and close at shutdown: limits' Redis, the key store's control client.
        self._limits_redis = limits_redis
        self._key_control = key_control
        self.idempotency = idempotency_store
        self._defaults = defaults
        # The defaults merged with the current snapshot's, kept until the snapshot changes.
        self._merged: tuple[RateLimits, RateLimits, Limits] | None = None
        # id(principal) -> (principal, defaults, its effective limits); see `_limits_for`.
        self._effective: dict[int, tuple[Principal, Limits, Limits]] = {}
        self._inflight: dict[int, _InFlight] = {}
        self._finishing: set[asyncio.Task[None]] = set()

    async def run(
        self,
        headers: Mapping[str, str],
        context: object,
        principal: Principal,
        endpoint: str,
        body: Mapping[str, object],
        forward: Forward,
        *,
        budgets: BudgetIndex | None = None,
        pricing: ModelPricing | None = None,
        default_limits: tuple[RateLimits, RateLimits] | None = None,
    ) -> Response:
        """Serve one request through the guards; `forward` calls the provider.

        `context` is the request's RequestContext, the identity `observe_usage` is told.
        `budgets` (the snapshot's hard budgets) and the model's `pricing` enable reservations.
        `default_limits` (the snapshot's key and tenant defaults) override the `DEFAULT_*` settings.
        """
        claim: Claim | None = None
        key = idempotency.read_key(headers)
        if key is not None:
            found = await self.idempotency.begin(
                principal.key_id, key, idempotency.fingerprint(endpoint, body), uuid.uuid4().hex
            )
            if isinstance(found, StoredResponse):
                return found.response()
            claim = found
        flight = _InFlight(grant=None, claim=claim, record_limit=self.idempotency.max_bytes)
        try:
            limits = self._limits_for(principal, self._defaults_for(default_limits))
            reservation = None
            if self._planner is not None and budgets is not None and pricing is not None:
                reservation = await self._planner.plan(
                    budgets, principal.key_id, principal.tenant_id, pricing, endpoint, body
                )
            if limits.any or reservation is not None:
                tokens = estimate_tokens(body) if limits.counts_tokens else 0
                flight.grant = await self.limiter.admit(principal, limits, tokens, reservation)
                if reservation is not None:
                    flight.grant.headers.extend(
                        (name.encode(), value.encode()) for name, value in reservation.headers().items()
                    )
            self._inflight[id(context)] = flight
            response = await forward()
        except BudgetUnavailable as exc:
            # The script may have run before the call timed out: drop a hold it may have left.
            if self._releaser is not None:
                self._spawn(self._releaser.release(exc.reservation))
            self._finish(flight)
            raise
        except BaseException:
            self._inflight.pop(id(context), None)
            self._finish(flight)
            raise
        return GuardedResponse(response, flight, lambda: self._end(context, flight))

    def _limits_for(self, principal: Principal, defaults: Limits) -> Limits:
        """The principal's effective limits, kept while the principal and the defaults are the same
        objects (principals are memoised per key record, defaults per snapshot)."""
        cached = self._effective.get(id(principal))
        if cached is not None and cached[0] is principal and cached[1] is defaults:
            return cached[2]
        limits = effective_limits(principal, defaults)
        if len(self._effective) >= _EFFECTIVE_CACHE_SIZE:
            self._effective.clear()
        # The entry holds the principal itself, so its id cannot be reused while it is cached.
        self._effective[id(principal)] = (principal, defaults, limits)
        return limits

    def _defaults_for(self, snapshot: tuple[RateLimits, RateLimits] | None) -> Limits:
        """The defaults with the snapshot's merged in; merged once per snapshot, not per request."""
        if snapshot is None:
            return self._defaults
        merged = self._merged
        if merged is not None and merged[0] is snapshot[0] and merged[1] is snapshot[1]:
            return merged[2]
        limits = with_snapshot_defaults(self._defaults, *snapshot)
        self._merged = (snapshot[0], snapshot[1], limits)
        return limits

    def observe_usage(self, context: object, event: UsageEvent) -> None:
        """Forwarder hook: the request's usage event (actual tokens, error code) is known."""
        flight = self._inflight.get(id(context))
        if flight is None:
            return
        flight.usage_error = event.error_code
        if flight.grant is not None:
            flight.grant.actual = event.usage.prompt_tokens + event.usage.completion_tokens
            reservation = flight.grant.reservation
            if reservation is not None:
                event.reserved_micro_usd = reservation.amount
                event.budget_holds.extend(reservation.holds())
                reservation.reported = True

    async def close(self, timeout_s: float = 5.0) -> None:
        """Wait for the releases still in flight, then close the limits' Redis client (shutdown)."""
        if self._finishing:
            await asyncio.wait(self._finishing, timeout=timeout_s)
        await self.limiter.aclose()
        if self._limits_redis is not None:
            await self._limits_redis.aclose()
        if self._key_control is not None:
            await self._key_control.aclose()

    def _end(self, context: object, flight: _InFlight) -> asyncio.Task[None] | None:
        self._inflight.pop(id(context), None)
        return self._finish(flight)

    def _finish(self, flight: _InFlight) -> asyncio.Task[None] | None:
        """Release the grant; a budget hold to release or a response to store is done in a task
        (the request's own task may be being cancelled). Returns the task settling the
        idempotency claim, if there is one."""
        grant = flight.grant
        if grant is not None:
            if grant.actual is None:
                grant.actual = 0  # never reached a provider: it used no tokens
            self.limiter.release(grant)
            reservation = grant.reservation
            if reservation is not None and not reservation.reported and self._releaser is not None:
                self._spawn(self._releaser.release(reservation))
        if flight.claim is not None:
            return self._spawn(self._settle(flight.claim, flight))
        return None

    def _spawn(self, work: Coroutine[None, None, None]) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(work)
        self._finishing.add(task)
        task.add_done_callback(self._finishing.discard)
        return task

    async def _settle(self, claim: Claim, flight: _InFlight) -> None:
        """Store the response under its idempotency claim, or give the claim up."""
        stored = (
            flight.complete and not flight.oversized and 200 <= flight.status < 300 and not flight.usage_error
        )
        if stored:
            body = b"".join(flight.chunks)
            await self.idempotency.complete(
                claim, flight.status, idempotency.storable_headers(flight.headers), body
            )
        else:
            await self.idempotency.abandon(claim)


def build_guards(
    settings: ProxySettings,
    redis: aioredis.Redis,
    estimator: TokenEstimator,
    key_control: httpx.AsyncClient | None = None,
) -> Guards:
    """The guards from the settings; rate limits get their own fast-failing Redis client.

    `key_control` (the key store's client for control, if any) is closed with the guards.
    """
    # Each call is bounded by its own asyncio timeout (rate limits alone: the fast one; with a
    # budget reservation: the longer one), so the socket timeout is only the outer backstop.
    socket_timeout_s = max(settings.rate_limit_redis_timeout_s, settings.budget_redis_timeout_s)
    limits_redis = connect_redis(settings.redis_url, timeout_s=socket_timeout_s)
    defaults = Limits(
        key_rpm=settings.default_key_rpm,
        key_tpm=settings.default_key_tpm,
        key_parallel=settings.default_key_max_parallel,
        tenant_rpm=settings.default_tenant_rpm,
        tenant_tpm=settings.default_tenant_tpm,
        tenant_parallel=settings.default_tenant_max_parallel,
    )
    limiter = RateLimiter(
        limits_redis,
        replicas=settings.proxy_replicas,
        lease_ttl_s=settings.rate_limit_lease_ttl_s,
        timeout_s=settings.rate_limit_redis_timeout_s,
        outage_retry_s=settings.rate_limit_outage_retry_s,
        budget_timeout_s=settings.budget_redis_timeout_s,
        budget_fail_open=settings.budget_fail_open,
    )
    planner = BudgetPlanner(
        estimator,
        default_output_tokens=settings.budget_default_max_output_tokens,
        hold_ttl_s=settings.budget_hold_ttl_s,
    )
    releaser = BudgetReleaser(limits_redis, timeout_s=settings.budget_redis_timeout_s)
    store = IdempotencyStore(
        redis,
        ttl_s=settings.idempotency_ttl_s,
        # A claim outlives the longest request, so a duplicate never runs beside the first.
        lock_ttl_s=settings.timeout_total_s + 30,
        max_bytes=settings.idempotency_max_bytes,
    )
    return Guards(limiter, store, defaults, limits_redis, key_control, planner, releaser)


class GuardedResponse(Response):
    """Wraps the forwarded response: rate-limit and budget headers, recording, the end-of-request hook.

    With an idempotency claim, the response's last message is held back until the claim is
    settled (the answer stored, or the claim given up): a client that saw the end of the answer
    and at once sends the same key again must get the replay, not 409 "in use".
    """

    def __init__(
        self, inner: Response, flight: _InFlight, on_end: Callable[[], asyncio.Task[None] | None]
    ) -> None:
        self._inner = inner
        self._flight = flight
        self._on_end = on_end
        self.status_code = inner.status_code
        self.background = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        flight = self._flight
        extra = flight.grant.headers if flight.grant is not None else []
        if flight.claim is None:
            # Nothing to record or hold back: the headers join the response's own, and its
            # messages go straight out (no wrapped send per message).
            self._inner.raw_headers.extend(extra)
            try:
                await self._inner(scope, receive, send)
            finally:
                self._on_end()
            return

        held: Message | None = None  # the last message, while the claim is being settled

        async def recording_send(message: Message) -> None:
            nonlocal held
            if message["type"] == "http.response.start":
                flight.status = message["status"]
                flight.headers = list(message.get("headers", ()))
                if extra:
                    message = {**message, "headers": [*flight.headers, *extra]}
            elif message["type"] == "http.response.body":
                chunk = message.get("body", b"")
                flight.size += len(chunk)
                if flight.size > flight.record_limit:
                    flight.oversized = True
                    flight.chunks.clear()
                elif chunk:
                    flight.chunks.append(chunk)
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                flight.complete = True
                held = message  # sent once the claim is settled, below
                return
            await send(message)

        try:
            await self._inner(scope, receive, recording_send)
        finally:
            settling = self._on_end()
        if held is not None:
            if settling is not None:
                await asyncio.shield(settling)
            with contextlib.suppress(OSError):  # the client may have left meanwhile
                await send(held)
