"""Settling the proxy's budget reservations: the actual cost goes into the spend counter, then the
hold is released — so between admission and settlement the cost is always counted somewhere.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import grpc
import redis.asyncio as aioredis
from gateway_accounting.budgets.periods import budget_period
from gateway_common.budget_holds import COUNTERS_READY_KEY, budget_keys
from gateway_proto.v1 import accounting_pb2, accounting_pb2_grpc
from gateway_proto.v1.budget_pb2 import BudgetHold


async def test_settling_a_request_moves_its_reservation_into_the_spend(
    kit, publisher, control, settings_for, run_app, redis_url
):
    budget_id = await control.budget(limit_micro_usd=10**9, period="monthly", timezone="Europe/Paris")
    period = budget_period("monthly", "Europe/Paris", datetime.now(UTC))
    start = int(period.start.timestamp())
    keys = budget_keys(str(budget_id), start)
    redis = aioredis.Redis.from_url(redis_url)
    # What the proxy's limits.lua left for two requests: one settled below, one still in flight.
    settled_hold, open_hold = uuid.uuid4().hex, uuid.uuid4().hex
    await redis.hset(keys.holds, mapping={settled_hold: 40_000, open_hold: 30_000})
    await redis.zadd(keys.leases, {settled_hold: 10**13, open_hold: 10**13})
    await redis.set(keys.reserved, 70_000)
    event = kit.make_event(prompt_tokens=1000, completion_tokens=500)
    event.reserved_micro_usd = 40_000
    event.budget_holds.append(
        BudgetHold(budget_id=str(budget_id), period_start_unix=start, hold_id=settled_hold)
    )
    settings = settings_for(redis_url=redis_url, accounting_budget_refresh_s=0.2)

    async def settled() -> bool:
        return await redis.hget(keys.holds, settled_hold) is None

    try:
        async with run_app(settings) as (_app, state):
            await kit.wait_for(lambda: _loaded(state), what="budget loaded")
            await publisher.event(event)
            await kit.wait_for(settled, what="hold released")
            spent = int(await redis.get(keys.spent) or 0)
            reserved = int(await redis.get(keys.reserved) or 0)
            assert spent == kit.expected_cost(event)
            assert reserved == 30_000
            assert await redis.hkeys(keys.holds) == [open_hold.encode()]
            assert await redis.zrange(keys.leases, 0, -1) == [open_hold.encode()]
            async with grpc.aio.insecure_channel(f"127.0.0.1:{settings.accounting_grpc_port}") as channel:
                stub = accounting_pb2_grpc.AccountingServiceStub(channel)
                status = await stub.GetBudgetStatus(accounting_pb2.GetBudgetStatusRequest(scope_id=""))
            (state_of_budget,) = [b for b in status.budgets if b.budget_id == str(budget_id)]
            assert state_of_budget.reserved_micro_usd == 30_000
            assert state_of_budget.spent_micro_usd == kit.expected_cost(event)
    finally:
        await redis.aclose()


async def _loaded(state) -> bool:
    return len(state.book.budgets) == 1


async def test_a_hold_on_a_budget_created_since_the_last_refresh_is_counted_first(
    kit, publisher, control, settings_for, run_app, redis_url
):
    # The proxy learns a new budget from the snapshot within a second; accounting's book only on
    # its next refresh (an hour away here). The hold naming it makes the settler reload first.
    settings = settings_for(
        redis_url=redis_url, accounting_budget_refresh_s=3600, accounting_budget_reconcile_s=3600
    )
    redis = aioredis.Redis.from_url(redis_url)
    try:
        async with run_app(settings) as (_app, state):
            await kit.wait_for(lambda: _empty_book_loaded(state), what="book loaded")
            budget_id = await control.budget(limit_micro_usd=10**9, period="daily", timezone="UTC")
            start = int(budget_period("daily", "UTC", datetime.now(UTC)).start.timestamp())
            keys = budget_keys(str(budget_id), start)
            hold = uuid.uuid4().hex
            await redis.hset(keys.holds, hold, 50_000)
            await redis.zadd(keys.leases, {hold: 10**13})
            await redis.set(keys.reserved, 50_000)
            event = kit.make_event(prompt_tokens=10, completion_tokens=10)
            event.budget_holds.append(
                BudgetHold(budget_id=str(budget_id), period_start_unix=start, hold_id=hold)
            )
            await publisher.event(event)

            async def released() -> bool:
                return await redis.hlen(keys.holds) == 0

            await kit.wait_for(released, what="hold released")
            assert int(await redis.get(keys.spent) or 0) == kit.expected_cost(event)
            assert int(await redis.get(keys.reserved) or 0) == 0
    finally:
        await redis.aclose()


async def _empty_book_loaded(state) -> bool:
    return bool(state.book.loaded)


async def test_counters_lost_with_redis_are_rebuilt_and_the_sentinel_set_within_seconds(
    kit, publisher, control, settings_for, run_app, redis_url
):
    # A Redis restarted empty loses the counters and the counters-ready sentinel together. The
    # reconcile is an hour away here: the once-a-second sentinel check must trigger the rebuild.
    budget_id = await control.budget(limit_micro_usd=10**9, period="daily", timezone="UTC")
    start = int(budget_period("daily", "UTC", datetime.now(UTC)).start.timestamp())
    keys = budget_keys(str(budget_id), start)
    settings = settings_for(
        redis_url=redis_url, accounting_budget_refresh_s=3600, accounting_budget_reconcile_s=3600
    )
    redis = aioredis.Redis.from_url(redis_url)
    try:
        async with run_app(settings) as (_app, state):
            await kit.wait_for(lambda: _loaded(state), what="budget loaded")
            event = kit.make_event(prompt_tokens=100, completion_tokens=50)
            await publisher.event(event)

            async def counted() -> bool:
                return int(await redis.get(keys.spent) or 0) == kit.expected_cost(event)

            await kit.wait_for(counted, what="spend counted")
            assert await redis.exists(COUNTERS_READY_KEY)
            await redis.flushdb()  # Redis restarted empty
            lost_at = asyncio.get_running_loop().time()

            async def rebuilt() -> bool:
                return bool(await redis.exists(COUNTERS_READY_KEY)) and await counted()

            await kit.wait_for(rebuilt, what="counters rebuilt and the sentinel set")
            assert asyncio.get_running_loop().time() - lost_at < 10
    finally:
        await redis.aclose()
