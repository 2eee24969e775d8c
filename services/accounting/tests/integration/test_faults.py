"""Faults: poison messages, Postgres and NATS outages, startup with Postgres down, SIGTERM."""

from __future__ import annotations

import asyncio

import grpc
import httpx
import pytest
from gateway_accounting.consumer import DURABLE_NAME
from gateway_common.names import USAGE_STREAM
from gateway_proto.v1 import accounting_pb2, accounting_pb2_grpc


async def test_an_undecodable_message_is_terminated_not_redelivered(
    kit, publisher, db, settings_for, run_app
):
    good = kit.make_event()
    await publisher.raw(b"\xff\xfe this is not a UsageEvent", msg_id="poison-1")
    # Decodes, but a tenant id that is not a UUID could never be stored either.
    await publisher.event(kit.make_event(tenant_id="not-a-uuid"))
    await publisher.event(good)
    settings = settings_for(accounting_ack_wait_s=1.0, accounting_max_deliver=50)
    async with run_app(settings) as (app, state):
        await kit.wait_for(lambda: _count_is(kit, db, 1), what="the good row")
        # Were the poison messages merely left unacked, they would come back after 1 s, again and again.
        await asyncio.sleep(3.5)
        info = await publisher.js.consumer_info(USAGE_STREAM, DURABLE_NAME)
        assert state.metrics.poison_messages._value.get() == 2
        assert state.metrics.events_consumed._value.get() == 3
        assert (info.num_pending, info.num_ack_pending, info.num_redelivered) == (0, 0, 0)
        assert (await kit.http_get(app, "/readyz")).status_code == 200
    assert [r["request_id"] for r in await kit.usage_rows(db)] == [good.request_id]


async def test_consumer_survives_postgres_and_nats_outages(kit, stack, publisher, db, settings_for, run_app):
    settings = settings_for(accounting_ack_wait_s=2.0)
    async with run_app(settings) as (app, state):
        await publisher.event(kit.make_event())
        await kit.wait_for(lambda: _count_is(kit, db, 1), what="first row")
        target = f"127.0.0.1:{settings.accounting_grpc_port}"

        stack.stop_postgres()
        try:
            during_pg_outage = [kit.make_event() for _ in range(5)]
            for event in during_pg_outage:
                await publisher.event(event)
            await kit.wait_for(lambda: _ready_says(kit, app, "postgres", False), what="postgres not ready")
            async with grpc.aio.insecure_channel(target) as channel:
                stub = accounting_pb2_grpc.AccountingServiceStub(channel)
                with pytest.raises(grpc.aio.AioRpcError) as raised:
                    await stub.GetUsageSummary(accounting_pb2.GetUsageSummaryRequest())
                assert raised.value.code() == grpc.StatusCode.UNAVAILABLE
            # Longer than ack_wait: the batch held in memory must be kept alive, not redelivered.
            await asyncio.sleep(3.0)
        finally:
            stack.start_postgres()
        await kit.wait_for(
            lambda: _count_is(kit, db, 6), timeout=30, what="rows written after Postgres is back"
        )
        info = await publisher.js.consumer_info(USAGE_STREAM, DURABLE_NAME)
        assert info.num_redelivered == 0, "the held batch timed out and was redelivered"
        assert state.metrics.errors.labels("postgres")._value.get() > 0, "the outage was never noticed"

        stack.stop_nats()
        try:
            await kit.wait_for(lambda: _ready_says(kit, app, "nats", False), what="nats not ready")
        finally:
            stack.start_nats()
        await kit.wait_for(lambda: _ready_says(kit, app, "nats", True), timeout=30, what="nats ready again")
        after_nats_outage = kit.make_event()
        await kit.wait_for(
            lambda: _publish(publisher, after_nats_outage), timeout=30, what="publish after restart"
        )
        await kit.wait_for(lambda: _count_is(kit, db, 7), timeout=30, what="row after NATS is back")
        assert (await kit.http_get(app, "/readyz")).status_code == 200

    totals = await kit.rollup_totals(db)
    assert totals["requests"] == 7
    assert totals["cost"] == sum(r["cost_micro_usd"] for r in await kit.usage_rows(db))


async def test_started_while_postgres_is_down_it_is_not_ready_then_recovers(
    kit, stack, publisher, db, start_accounting
):
    event = kit.make_event()
    await publisher.event(event)
    stack.stop_postgres()
    try:
        service = start_accounting()  # /healthz answers although Postgres is down
        async with httpx.AsyncClient(base_url=service.base_url, trust_env=False) as client:
            for _ in range(20):
                ready = await client.get("/readyz")
                if ready.json()["checks"]["nats"]:
                    break
                await asyncio.sleep(0.1)
            assert ready.status_code == 503
            assert ready.json()["checks"]["postgres"] is False
            assert ready.json()["checks"]["nats"] is True
    finally:
        stack.start_postgres()
    async with httpx.AsyncClient(base_url=service.base_url, trust_env=False) as client:
        await kit.wait_for(lambda: _http_ready(client), timeout=30, what="/readyz 200 after Postgres is back")
        await kit.wait_for(lambda: _count_is(kit, db, 1), what="the event stored")
        # The counter moves just after the commit the row count sees: wait for it, too.
        await kit.wait_for(
            lambda: _metric_is(client, "gateway_accounting_rows_inserted_total 1.0"), what="metric"
        )
    # gRPC works in the real process (Granian, uvloop) as well.
    async with grpc.aio.insecure_channel(service.grpc_target) as channel:
        stub = accounting_pb2_grpc.AccountingServiceStub(channel)
        answer = await stub.GetUsageSummary(accounting_pb2.GetUsageSummaryRequest())
    assert answer.totals.cost_micro_usd == kit.expected_cost(event)
    assert service.proc.stop(timeout=20) == 0, service.proc.log_tail()
    log = service.proc.log_tail(64_000)
    assert "Postgres unreachable" in log
    assert "accounting stopped" in log


async def _count_is(kit, db, expected: int) -> bool:
    return await kit.count_rows(db) == expected


async def _ready_says(kit, app, dependency: str, value: bool) -> bool:
    body = (await kit.http_get(app, "/readyz")).json()
    return body["checks"][dependency] is value


async def _http_ready(client: httpx.AsyncClient) -> bool:
    return (await client.get("/readyz")).status_code == 200


async def _metric_is(client: httpx.AsyncClient, line: str) -> bool:
    return line in (await client.get("/metrics")).text.splitlines()


async def _publish(publisher, event) -> bool:
    try:
        await publisher.event(event)
    except Exception:
        return False
    return True
