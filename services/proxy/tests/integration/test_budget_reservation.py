"""Hard-budget reservations in limits.lua, against a real Valkey: exact, atomic, all-or-nothing.

The limiter is driven directly (no proxy process): `RateLimiter.admit` with a `Reservation` is
the one round trip the guards make per request. Accounting's side (the spend counter, and the
release after settling) is played by writing and releasing the same keys.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime

import pytest
import redis.asyncio as aioredis
from gateway_common.budget_holds import COUNTERS_READY_KEY, budget_keys
from gateway_common.budget_periods import budget_period
from gateway_devstack.procs import free_port
from gateway_proto.v1.budget_pb2 import BUDGET_SCOPE_KEY, BUDGET_SCOPE_TENANT, BudgetLimit
from gateway_proto.v1.keys_pb2 import KeyRecord
from gateway_proto.v1.pricing_pb2 import ModelPricing
from gateway_proto.v1.usage_pb2 import UsageEvent
from gateway_proxy.auth import Principal
from gateway_proxy.budget_index import BudgetIndex, index_budgets
from gateway_proxy.budgets import BudgetPlanner, BudgetReleaser, Reservation, format_usd
from gateway_proxy.errors import QuotaExceeded, RateLimited, ServiceUnavailable
from gateway_proxy.guards import Guards
from gateway_proxy.idempotency import IdempotencyStore
from gateway_proxy.limits import BudgetUnavailable, Limits, RateLimiter
from gateway_proxy.tokens import TokenEstimator
from starlette.responses import Response
from starlette.types import Message

KEY_BUDGET = "00000000-0000-4000-8000-00000000000b"
TENANT_BUDGET = "00000000-0000-4000-8000-00000000000c"
# $1 per million tokens in and out: a request's estimate is exactly its token count in micro-USD.
PRICING = ModelPricing(input_micro_usd_per_mtok=1_000_000, output_micro_usd_per_mtok=1_000_000, priced=True)
PRINCIPAL = Principal.from_record(KeyRecord(key_id="key-1", tenant_id="tenant-1"))


def budgets(key_limit: int, tenant_limit: int | None = None) -> BudgetIndex:
    items = [
        BudgetLimit(
            id=KEY_BUDGET,
            scope=BUDGET_SCOPE_KEY,
            scope_id="key-1",
            limit_micro_usd=key_limit,
            period="monthly",
            timezone="Europe/Paris",
            hard=True,
        )
    ]
    if tenant_limit is not None:
        items.append(
            BudgetLimit(
                id=TENANT_BUDGET,
                scope=BUDGET_SCOPE_TENANT,
                scope_id="tenant-1",
                limit_micro_usd=tenant_limit,
                period="daily",
                timezone="UTC",
                hard=True,
            )
        )
    return index_budgets(items)


def body(max_tokens: int) -> dict[str, object]:
    return {"model": "m", "messages": [], "max_tokens": max_tokens}


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(redis_url, max_connections=500)
    await client.flushdb()
    await client.set(COUNTERS_READY_KEY, "1")  # as accounting does once the counters are built
    yield client
    await client.aclose()


@pytest.fixture
def limiter(redis: aioredis.Redis) -> RateLimiter:
    # A generous timeout: this host is shared, and a timed-out reservation is refused (503).
    return RateLimiter(redis, timeout_s=2.0, budget_timeout_s=5.0)


PlanFn = Callable[..., Awaitable[Reservation]]


@pytest.fixture
def plan() -> PlanFn:
    planner = BudgetPlanner(TokenEstimator(), default_output_tokens=1000, hold_ttl_s=60)

    async def make(index: BudgetIndex, max_tokens: int) -> Reservation:
        reservation = await planner.plan(
            index, "key-1", "tenant-1", PRICING, "chat_completions", body(max_tokens)
        )
        assert reservation is not None
        return reservation

    return make


def key_budget_keys() -> tuple[str, str, str, str]:
    period = budget_period("monthly", "Europe/Paris", datetime.now(UTC))
    keys = budget_keys(KEY_BUDGET, int(period.start.timestamp()))
    return keys.spent, keys.reserved, keys.holds, keys.leases


async def test_reservations_stop_exactly_at_the_limit(
    limiter: RateLimiter, plan: PlanFn, redis: aioredis.Redis
) -> None:
    index = budgets(key_limit=1_000)
    amounts = []
    for _ in range(3):
        reservation = await plan(index, 300)
        grant = await limiter.admit(PRINCIPAL, Limits(), 0, reservation)
        assert grant.reservation is reservation
        amounts.append(reservation.amount)
    assert all(300 <= a < 333 for a in amounts)  # the prompt of an empty message list is a few tokens
    left = 1_000 - sum(amounts)
    assert reservation.remaining == (left,)
    with pytest.raises(QuotaExceeded) as refused:
        await limiter.admit(PRINCIPAL, Limits(), 0, await plan(index, 300))
    error = refused.value
    assert (error.status, error.type, error.code) == (429, "insufficient_quota", "insufficient_quota")
    assert KEY_BUDGET in error.message
    assert "monthly" in error.message
    assert "resets at" in error.message
    assert error.headers["x-gateway-budget-remaining-usd"] == f"0.{left:06d}"
    _, reserved, holds, leases = key_budget_keys()
    assert int(await redis.get(reserved) or 0) == sum(amounts)
    assert await redis.hlen(holds) == 3
    assert await redis.zcard(leases) == 3


async def test_the_spend_accounting_settled_counts_against_the_limit(
    limiter: RateLimiter, plan: PlanFn, redis: aioredis.Redis
) -> None:
    spent, reserved, _, _ = key_budget_keys()
    await redis.set(spent, 900)
    with pytest.raises(QuotaExceeded):
        await limiter.admit(PRINCIPAL, Limits(), 0, await plan(budgets(key_limit=1_000), 200))
    assert await redis.get(reserved) is None  # refused: nothing held
    grant = await limiter.admit(PRINCIPAL, Limits(), 0, await plan(budgets(key_limit=1_000), 50))
    assert grant.reservation is not None
    assert grant.reservation.remaining[0] == 100 - grant.reservation.amount


async def test_the_tightest_of_key_and_tenant_budgets_refuses_and_nothing_is_held(
    limiter: RateLimiter, plan: PlanFn, redis: aioredis.Redis
) -> None:
    index = budgets(key_limit=10_000, tenant_limit=100)
    with pytest.raises(QuotaExceeded) as refused:
        await limiter.admit(PRINCIPAL, Limits(), 0, await plan(index, 200))
    assert TENANT_BUDGET in refused.value.message
    assert "organization" in refused.value.message
    assert await redis.keys("gw:budget:*:*") == []
    reservation = await plan(index, 50)
    await limiter.admit(PRINCIPAL, Limits(), 0, reservation)
    headers = reservation.headers()
    # The tenant's daily budget is the tighter one: its remainder and its reset are reported.
    assert headers["x-gateway-budget-remaining-usd"] == f"0.{100 - reservation.amount:06d}"
    assert headers["x-gateway-budget-reset"].endswith("T00:00:00Z")


async def test_a_refused_budget_takes_no_rate_limit_and_a_refused_rate_limit_holds_no_budget(
    limiter: RateLimiter, plan: PlanFn, redis: aioredis.Redis
) -> None:
    index = budgets(key_limit=100)
    with pytest.raises(QuotaExceeded):
        await limiter.admit(PRINCIPAL, Limits(key_rpm=1), 0, await plan(index, 500))
    assert await redis.zcard("gw:rl:k:key-1:rpm") == 0
    await limiter.admit(PRINCIPAL, Limits(key_rpm=1), 0, await plan(index, 10))
    _, reserved, _, _ = key_budget_keys()
    held = int(await redis.get(reserved) or 0)
    with pytest.raises(RateLimited):
        await limiter.admit(PRINCIPAL, Limits(key_rpm=1), 0, await plan(index, 10))
    assert int(await redis.get(reserved) or 0) == held


async def test_release_frees_the_hold_once(limiter: RateLimiter, plan: PlanFn, redis: aioredis.Redis) -> None:
    releaser = BudgetReleaser(redis, timeout_s=5.0)
    index = budgets(key_limit=1_000)
    first, second = await plan(index, 100), await plan(index, 200)
    await limiter.admit(PRINCIPAL, Limits(), 0, first)
    await limiter.admit(PRINCIPAL, Limits(), 0, second)
    await releaser.release(first)
    await releaser.release(first)  # a second release (accounting after the proxy) changes nothing
    _, reserved, holds, leases = key_budget_keys()
    assert int(await redis.get(reserved) or 0) == second.amount
    assert await redis.hkeys(holds) == [second.hold_id.encode()]
    assert await redis.zcard(leases) == 1


async def test_a_hold_nobody_releases_expires_with_its_lease(
    limiter: RateLimiter, redis: aioredis.Redis
) -> None:
    planner = BudgetPlanner(TokenEstimator(), default_output_tokens=1000, hold_ttl_s=60)
    index = budgets(key_limit=1_000)
    stale = await planner.plan(index, "key-1", "tenant-1", PRICING, "chat_completions", body(900))
    assert stale is not None
    stale.hold_ttl_ms = 50  # as if its proxy died 50 ms after admitting it
    await limiter.admit(PRINCIPAL, Limits(), 0, stale)
    fresh = await planner.plan(index, "key-1", "tenant-1", PRICING, "chat_completions", body(900))
    assert fresh is not None
    with pytest.raises(QuotaExceeded):
        await limiter.admit(PRINCIPAL, Limits(), 0, fresh)
    await asyncio.sleep(0.2)
    await limiter.admit(PRINCIPAL, Limits(), 0, fresh)
    _, reserved, holds, _ = key_budget_keys()
    assert int(await redis.get(reserved) or 0) == fresh.amount
    assert await redis.hkeys(holds) == [fresh.hold_id.encode()]


async def test_concurrent_reservations_never_exceed_the_limit(limiter: RateLimiter, plan: PlanFn) -> None:
    index = budgets(key_limit=10_000)
    reservations = [await plan(index, 95) for _ in range(200)]
    amount = reservations[0].amount
    outcomes = await asyncio.gather(
        *(limiter.admit(PRINCIPAL, Limits(), 0, r) for r in reservations), return_exceptions=True
    )
    admitted = [o for o in outcomes if not isinstance(o, BaseException)]
    refused = [o for o in outcomes if isinstance(o, QuotaExceeded)]
    assert len(admitted) + len(refused) == 200
    assert len(admitted) == 10_000 // amount
    assert len(admitted) * amount <= 10_000


class _Context:
    """Stands in for the RequestContext the guards key their in-flight state on."""


def _guards(redis: aioredis.Redis, limiter: RateLimiter) -> Guards:
    planner = BudgetPlanner(TokenEstimator(), default_output_tokens=1000, hold_ttl_s=60)
    store = IdempotencyStore(redis, ttl_s=60, lock_ttl_s=60, max_bytes=1024)
    return Guards(
        limiter,
        store,
        Limits(),
        planner=planner,
        releaser=BudgetReleaser(redis, timeout_s=5.0),
    )


async def _drive(response: Response) -> list[tuple[bytes, bytes]]:
    """Send `response` as a server would; return the headers it started with."""
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    await response({"type": "http"}, receive, send)
    return list(sent[0]["headers"])


async def test_a_request_that_fails_before_the_provider_releases_its_hold(
    limiter: RateLimiter, redis: aioredis.Redis
) -> None:
    guards = _guards(redis, limiter)

    async def unavailable() -> Response:
        raise ServiceUnavailable("no deployment", code="no_deployment")

    with pytest.raises(ServiceUnavailable):
        await guards.run(
            {},
            _Context(),
            PRINCIPAL,
            "chat_completions",
            body(500),
            unavailable,
            budgets=budgets(key_limit=1_000),
            pricing=PRICING,
        )
    await guards.close()
    _, reserved, holds, _ = key_budget_keys()
    assert int(await redis.get(reserved) or 0) == 0
    assert await redis.hlen(holds) == 0


async def test_a_served_request_hands_its_hold_to_accounting_in_the_usage_event(
    limiter: RateLimiter, redis: aioredis.Redis
) -> None:
    guards = _guards(redis, limiter)
    context = _Context()
    event = UsageEvent(request_id="r1")

    async def served() -> Response:
        guards.observe_usage(context, event)  # what the Forwarder does before publishing
        return Response(b"{}", media_type="application/json")

    response = await guards.run(
        {},
        context,
        PRINCIPAL,
        "chat_completions",
        body(500),
        served,
        budgets=budgets(key_limit=1_000),
        pricing=PRICING,
    )
    headers = dict(await _drive(response))
    await guards.close()
    _, reserved, holds, _ = key_budget_keys()
    held = int(await redis.get(reserved) or 0)
    assert held == event.reserved_micro_usd > 500
    assert headers[b"x-gateway-budget-remaining-usd"] == format_usd(1_000 - held).encode()
    assert headers[b"x-gateway-budget-reset"].endswith(b"T22:00:00Z") or headers[
        b"x-gateway-budget-reset"
    ].endswith(b"T23:00:00Z")
    assert [(h.budget_id, h.hold_id) for h in event.budget_holds] == [
        (KEY_BUDGET, (await redis.hkeys(holds))[0].decode())
    ]


@pytest.mark.parametrize("fail_open", [False, True])
async def test_without_redis_a_hard_budget_fails_closed_unless_told_otherwise(
    plan: PlanFn, fail_open: bool
) -> None:
    dead = aioredis.Redis(host="127.0.0.1", port=free_port(), socket_connect_timeout=0.5)
    limiter = RateLimiter(dead, timeout_s=0.5, budget_timeout_s=1.0, budget_fail_open=fail_open)
    try:
        if not fail_open:
            with pytest.raises(BudgetUnavailable) as refused:
                await limiter.admit(
                    PRINCIPAL, Limits(key_rpm=10), 0, await plan(budgets(key_limit=1_000), 10)
                )
            assert (refused.value.status, refused.value.code) == (503, "budget_unavailable")
            # Requests without a hard budget keep the rate limits' local fallback.
            assert (await limiter.admit(PRINCIPAL, Limits(key_rpm=10), 0)).local
        else:
            grant = await limiter.admit(
                PRINCIPAL, Limits(key_rpm=10), 0, await plan(budgets(key_limit=1_000), 10)
            )
            assert grant.local
            assert grant.reservation is None
    finally:
        await dead.aclose()


async def test_without_the_counters_ready_sentinel_budgeted_requests_are_refused_not_overspent(
    limiter: RateLimiter, plan: PlanFn, redis: aioredis.Redis
) -> None:
    # Redis restarted empty: the spend counters are gone, and so is the sentinel. A missing
    # counter must not read as "nothing spent" then: 503 until accounting rebuilt them.
    await redis.delete(COUNTERS_READY_KEY)
    with pytest.raises(BudgetUnavailable) as refused:
        await limiter.admit(PRINCIPAL, Limits(), 0, await plan(budgets(key_limit=1_000_000), 100))
    assert refused.value.status == 503
    assert refused.value.code == "budget_unavailable"
    assert [k async for k in redis.scan_iter(match="gw:budget:*:holds")] == []  # nothing held
    fail_open = RateLimiter(redis, timeout_s=2.0, budget_timeout_s=5.0, budget_fail_open=True)
    grant = await fail_open.admit(PRINCIPAL, Limits(), 0, await plan(budgets(key_limit=1_000_000), 100))
    assert grant.reservation is None  # served, unreserved, as BUDGET_FAIL_OPEN asks
    await redis.set(COUNTERS_READY_KEY, "1")
    assert (
        await limiter.admit(PRINCIPAL, Limits(), 0, await plan(budgets(key_limit=1_000_000), 100))
    ).reservation is not None
