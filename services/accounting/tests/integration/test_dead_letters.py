"""Dead letters: poison messages, rows Postgres refuses, and messages that ran out of deliveries
end in accounting.dead_letters and on gateway.usage.dlq, with an alert — never in a loop."""

from __future__ import annotations

import asyncio
import contextlib

import nats.errors
from gateway_accounting.consumer import DURABLE_NAME
from gateway_accounting.dead_letter import DLQ_STREAM, DLQ_SUBJECT
from gateway_common.names import USAGE_STREAM


async def _dead_letters(db) -> list:
    try:
        return await db.fetch("SELECT * FROM accounting.dead_letters ORDER BY stream_sequence")
    except Exception:
        return []


async def _dlq_messages(publisher) -> list:
    """Every message on the dead-letter subject, read with an ephemeral consumer."""
    sub = await publisher.js.pull_subscribe(DLQ_SUBJECT, stream=DLQ_STREAM)
    try:
        msgs = await sub.fetch(100, timeout=1.0)
    except nats.errors.TimeoutError:
        msgs = []
    finally:
        await sub.unsubscribe()
    return msgs


async def test_poison_messages_are_dead_lettered_once_with_the_reason(
    kit, publisher, db, settings_for, run_app, caplog
):
    await publisher.raw(b"\xff\xfe not a UsageEvent", msg_id="poison-1")
    await publisher.event(kit.make_event(tenant_id="not-a-uuid", request_id="bad-tenant"))
    good = kit.make_event()
    await publisher.event(good)
    settings = settings_for(accounting_ack_wait_s=1.0, accounting_max_deliver=50)
    async with run_app(settings) as (app, _state):
        await kit.wait_for(lambda: _has_n(_dead_letters(db), 2), what="two dead letters")
        await kit.wait_for(lambda: _count_is(kit, db, 1), what="the good row")
        # Left unacked they would come back after 1 s, again and again.
        await asyncio.sleep(2.5)
        info = await publisher.js.consumer_info(USAGE_STREAM, DURABLE_NAME)
        assert (info.num_pending, info.num_ack_pending, info.num_redelivered) == (0, 0, 0)
        metrics = (await kit.http_get(app, "/metrics")).text
    # The two are handled concurrently, so their order is not part of the contract.
    letters = {r["msg_id"]: r for r in await _dead_letters(db)}
    assert sorted(letters) == ["bad-tenant", "poison-1"]
    assert "undecodable UsageEvent" in letters["poison-1"]["error"]
    assert letters["poison-1"]["payload"] == b"\xff\xfe not a UsageEvent"
    assert "tenant_id 'not-a-uuid' is not a UUID" in letters["bad-tenant"]["error"]
    assert all(r["deliveries"] == 1 and r["resolved_at"] is None for r in letters.values())
    dlq = {m.headers["Gateway-Msg-Id"]: m for m in await _dlq_messages(publisher)}
    assert sorted(dlq) == ["bad-tenant", "poison-1"]
    assert dlq["poison-1"].data == b"\xff\xfe not a UsageEvent"
    assert dlq["bad-tenant"].headers["Gateway-Dlq-Kind"] == "poison"
    assert 'gateway_accounting_dead_letters_total{kind="poison"} 2.0' in metrics
    assert sum("usage message dead-lettered" in r.getMessage() for r in caplog.records) == 2


async def test_a_row_postgres_refuses_is_dead_lettered_and_the_rest_stored(
    kit, publisher, db, settings_for, run_app
):
    async with run_app(settings_for()) as (app, state):
        await state.database.wait_started()
        # A rule the row breaks that no retry will fix, as a check constraint added later would be.
        await db.execute(
            """
            CREATE FUNCTION accounting.refuse_test_row() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW.request_id = 'refuse-me' THEN RAISE EXCEPTION 'refused by test rule'; END IF;
                RETURN NEW;
            END $$;
            CREATE TRIGGER refuse_test_row BEFORE INSERT ON accounting.usage
                FOR EACH ROW EXECUTE FUNCTION accounting.refuse_test_row();
            """
        )
        events = [kit.make_event(), kit.make_event(request_id="refuse-me"), kit.make_event()]
        for event in events:
            await publisher.event(event)
        await kit.wait_for(lambda: _has_n(_dead_letters(db), 1), what="the refused row dead-lettered")
        await kit.wait_for(lambda: _count_is(kit, db, 2), what="the two other rows")
        metrics = (await kit.http_get(app, "/metrics")).text
    letters = await _dead_letters(db)
    assert letters[0]["msg_id"] == "refuse-me"
    assert "refused by test rule" in letters[0]["error"]
    assert 'gateway_accounting_dead_letters_total{kind="refused"} 1.0' in metrics
    assert sorted(r["request_id"] for r in await kit.usage_rows(db)) == sorted(
        [events[0].request_id, events[2].request_id]
    )


async def test_a_message_never_acked_goes_to_the_dlq_after_max_deliver(
    kit, publisher, db, settings_for, run_app
):
    settings = settings_for(accounting_ack_wait_s=1.0, accounting_max_deliver=2)
    async with run_app(settings) as (_, state):
        await kit.wait_for(lambda: _flag(state.consumer.running), what="consumer bound")
    # A consumer that crashes on the message every time: fetched, never acked, max_deliver times.
    event = kit.make_event()
    await publisher.event(event)
    crashing = await publisher.js.pull_subscribe_bind(DURABLE_NAME, stream=USAGE_STREAM)
    deliveries = 0
    for _ in range(4):
        with contextlib.suppress(nats.errors.TimeoutError):
            deliveries += len(await crashing.fetch(1, timeout=1.5))
    await crashing.unsubscribe()
    assert deliveries == 2, "JetStream must stop redelivering after max_deliver"

    # The advisory waited in USAGE_DLQ while no accounting ran; the next start dead-letters it.
    async with run_app(settings) as (app, state):
        await kit.wait_for(lambda: _has_n(_dead_letters(db), 1), what="dead letter from the advisory")
        counted = 'gateway_accounting_dead_letters_total{kind="max_deliveries"} 1.0'

        async def metric_counted() -> bool:
            return counted in (await kit.http_get(app, "/metrics")).text

        # The row is written before the counter moves; on a busy machine a scrape can fall between.
        await kit.wait_for(metric_counted, timeout=5, what="the dead-letter metric")
        metrics = (await kit.http_get(app, "/metrics")).text
    [letter] = await _dead_letters(db)
    assert letter["msg_id"] == event.request_id
    assert letter["payload"] == event.SerializeToString()
    assert letter["deliveries"] == 2
    assert "not acked after 2 deliveries" in letter["error"]
    assert 'gateway_accounting_dead_letters_total{kind="max_deliveries"} 1.0' in metrics
    assert await kit.count_rows(db) == 0
    [dlq] = await _dlq_messages(publisher)
    assert dlq.headers["Gateway-Dlq-Kind"] == "max_deliveries"


async def _has_n(rows_coro, n: int) -> bool:
    return len(await rows_coro) >= n


async def _count_is(kit, db, expected: int) -> bool:
    return await kit.count_rows(db) == expected


async def _flag(value: bool) -> bool:
    return value
