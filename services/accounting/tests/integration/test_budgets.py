"""Budgets: status over gRPC from control's budget rows, Redis spend counters kept exact."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import grpc
import pytest
import redis.asyncio as aioredis
from gateway_accounting.budgets.counters import spent_key
from gateway_accounting.budgets.periods import budget_period
from gateway_devstack.procs import free_port
from gateway_proto.v1 import accounting_pb2, accounting_pb2_grpc, budget_pb2

OTHER_KEY = "c3d4e5f6-0718-4293-a4b5-c6d7e8f90a04"


async def _rows(kit, db, n: int) -> bool:
    return await kit.count_rows(db) == n


async def _loaded(state, n: int) -> bool:
    return len(state.book.budgets) == n


async def _status(port: int, scope_id: str = "") -> list[budget_pb2.BudgetState]:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = accounting_pb2_grpc.AccountingServiceStub(channel)
        answer = await stub.GetBudgetStatus(accounting_pb2.GetBudgetStatusRequest(scope_id=scope_id))
    return list(answer.budgets)


async def test_budget_status_reports_exact_spend_in_the_current_period(
    kit, publisher, db, control, settings_for, run_app, redis_url
):
    tenant_budget = await control.budget(limit_micro_usd=50_000_000, period="daily", timezone="Asia/Tokyo")
    key_budget = await control.budget(
        kit.KEY,
        scope="key",
        limit_micro_usd=9_000_000,
        period="monthly",
        timezone="Europe/Berlin",
        hard=False,
    )
    events = [kit.make_event(prompt_tokens=1000 + i, completion_tokens=10 * i) for i in range(5)]
    # Another key of the same tenant: counts for the tenant budget, not for the key budget.
    events.append(kit.make_event(key_id=OTHER_KEY, prompt_tokens=333))
    settings = settings_for(redis_url=redis_url, accounting_budget_refresh_s=0.2)
    async with run_app(settings) as (_app, state):
        await kit.wait_for(lambda: _loaded(state, 2), what="budgets loaded")
        for event in events:
            await publisher.event(event)
        await kit.wait_for(lambda: _rows(kit, db, len(events)), what="rows stored")
        states = {s.budget_id: s for s in await _status(settings.accounting_grpc_port)}
        only_key = await _status(settings.accounting_grpc_port, kit.KEY)

    now = datetime.now(UTC)
    tenant_cost = sum(kit.expected_cost(e) for e in events)
    key_cost = sum(kit.expected_cost(e) for e in events[:-1])
    tenant_state = states[str(tenant_budget)]
    assert tenant_state.scope == budget_pb2.BUDGET_SCOPE_TENANT
    assert tenant_state.scope_id == kit.TENANT
    assert (tenant_state.limit_micro_usd, tenant_state.spent_micro_usd) == (50_000_000, tenant_cost)
    assert (tenant_state.reserved_micro_usd, tenant_state.hard) == (0, True)
    assert (tenant_state.period, tenant_state.timezone) == ("daily", "Asia/Tokyo")
    tokyo_day = budget_period("daily", "Asia/Tokyo", now)
    assert tenant_state.period_start.ToDatetime(UTC) == tokyo_day.start
    assert tenant_state.resets_at.ToDatetime(UTC) == tokyo_day.end

    key_state = states[str(key_budget)]
    berlin_month = budget_period("monthly", "Europe/Berlin", now)
    assert key_state.scope == budget_pb2.BUDGET_SCOPE_KEY
    assert (key_state.spent_micro_usd, key_state.hard, key_state.period) == (key_cost, False, "monthly")
    assert key_state.period_start.ToDatetime(UTC) == berlin_month.start
    assert key_state.resets_at.ToDatetime(UTC) == berlin_month.end
    assert [s.budget_id for s in only_key] == [str(key_budget)]


async def test_budget_status_refuses_a_scope_that_is_not_a_uuid(control, settings_for, run_app):
    settings = settings_for(accounting_budget_refresh_s=0.2)
    async with run_app(settings):
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await _status(settings.accounting_grpc_port, "tenant-1")
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "scope_id" in (refused.value.details() or "")


async def test_redis_counters_follow_spend_and_are_rebuilt_and_reconciled(
    kit, publisher, db, control, settings_for, run_app, redis_url
):
    budget_id = await control.budget(limit_micro_usd=10**12, period="weekly", timezone="America/New_York")
    period = budget_period("weekly", "America/New_York", datetime.now(UTC))
    key = spent_key(budget_id, period.start)
    assert key == f"gw:budget:{budget_id}:{int(period.start.timestamp())}:spent"
    redis = aioredis.Redis.from_url(redis_url)
    settings = settings_for(
        redis_url=redis_url, accounting_budget_refresh_s=0.2, accounting_budget_reconcile_s=0.3
    )
    total = 0

    async def counter_is(expected: int) -> bool:
        value = await redis.get(key)
        return value is not None and int(value) == expected

    try:
        async with run_app(settings) as (_app, state):
            await kit.wait_for(lambda: _loaded(state, 1), what="budget loaded")
            first = [kit.make_event(prompt_tokens=100 * (i + 1)) for i in range(3)]
            for event in first:
                await publisher.event(event)
            total += sum(kit.expected_cost(e) for e in first)
            await kit.wait_for(lambda: counter_is(total), what="counter == spend")
            ttl = await redis.ttl(key)
            assert (
                period.end.timestamp() - datetime.now(UTC).timestamp()
                < ttl
                <= (period.end.timestamp() - datetime.now(UTC).timestamp() + 86_400 + 5)
            )

            # Lost (Redis restarted, key evicted): the next batch rebuilds it from Postgres.
            await redis.delete(key)
            later = kit.make_event(prompt_tokens=4321)
            await publisher.event(later)
            total += kit.expected_cost(later)
            await kit.wait_for(lambda: counter_is(total), what="counter rebuilt from Postgres")

            # Drifted (a crash between commit and INCRBY): the reconcile corrects it.
            await redis.decrby(key, 777)
            await kit.wait_for(lambda: counter_is(total), what="drift corrected by the reconcile")
            assert state.metrics.budget_counter_corrections._value.get() >= 1

            # A redelivered event adds nothing to the counter (only newly stored rows are settled).
            await publisher.event(later, msg_id=f"{later.request_id}-replay")
            extra = kit.make_event(prompt_tokens=10)
            await publisher.event(extra)
            total += kit.expected_cost(extra)
            await kit.wait_for(lambda: _rows(kit, db, 5), what="5 rows")
            await kit.wait_for(lambda: counter_is(total), what="counter after a duplicate")
    finally:
        await redis.aclose()
    spent = await db.fetchval("SELECT sum(cost_micro_usd) FROM accounting.usage")
    assert spent == total


async def test_usage_flows_and_budgets_answer_without_redis(
    kit, publisher, db, control, settings_for, run_app
):
    budget_id = await control.budget(limit_micro_usd=1_000_000)
    dead_redis = f"redis://127.0.0.1:{free_port()}/0"
    settings = settings_for(redis_url=dead_redis, accounting_budget_refresh_s=0.2)
    async with run_app(settings) as (app, state):
        await kit.wait_for(lambda: _loaded(state, 1), what="budget loaded")
        events = [kit.make_event() for _ in range(4)]
        for event in events:
            await publisher.event(event)
        await kit.wait_for(lambda: _rows(kit, db, 4), what="rows stored without Redis")
        ready = await kit.http_get(app, "/readyz")
        [budget] = await _status(settings.accounting_grpc_port)
    assert ready.status_code == 200
    assert ready.json()["degraded"] == {"redis": False}
    assert budget.budget_id == str(budget_id)
    assert budget.spent_micro_usd == sum(kit.expected_cost(e) for e in events)


async def test_budgets_are_off_without_the_control_schema(kit, settings_for, run_app):
    settings = settings_for(accounting_budget_refresh_s=0.2)
    async with run_app(settings) as (app, state):
        await kit.wait_for(lambda: _book_loaded(state), what="book loaded (empty)")
        assert await _status(settings.accounting_grpc_port) == []
        assert (await kit.http_get(app, "/readyz")).status_code == 200


async def _book_loaded(state) -> bool:
    return state.book.loaded


def test_spent_key_layout() -> None:
    budget_id = uuid.UUID("0b0e6b55-3c1f-4a59-9d4e-2f6f3b7f7a01")
    start = datetime(2026, 5, 1, 22, tzinfo=UTC)
    assert spent_key(budget_id, start) == f"gw:budget:{budget_id}:1777672800:spent"
