"""The usage pipeline on real NATS JetStream and Postgres: exactly one row per request id, the
exact cost, rollups that match, and no double counting by redeliveries or a second replica."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from gateway_accounting.consumer import DURABLE_NAME
from gateway_accounting.events import usage_row
from gateway_accounting.store import write_usage_batch
from gateway_common.names import USAGE_STREAM


async def test_each_request_is_stored_once_with_its_exact_cost(kit, publisher, db, settings_for, run_app):
    events = [kit.make_event(prompt_tokens=1000 + i, completion_tokens=i * 7 + 1) for i in range(40)]
    for event in events:
        await publisher.event(event)
    # The same request published again under another Nats-Msg-Id, so JetStream's dedup lets it through:
    # a proxy replaying its spool after the duplicate window does exactly this.
    replayed = events[3]
    await publisher.event(replayed, msg_id=f"{replayed.request_id}-replay")

    async with run_app(settings_for()) as (app, _):
        await kit.wait_for(lambda: _count_is(kit, db, len(events)), what="40 usage rows")
        await kit.wait_for(lambda: _all_acked(publisher), what="every message acked")
        metrics = (await kit.http_get(app, "/metrics")).text

    rows = await kit.usage_rows(db)
    assert [r["request_id"] for r in rows] == sorted(e.request_id for e in events)
    by_id = {r["request_id"]: r for r in rows}
    for event in events:
        row = by_id[event.request_id]
        assert row["cost_micro_usd"] == kit.expected_cost(event)
        assert row["prompt_tokens"] == event.usage.prompt_tokens
        assert row["pricing_revision"] == 7
        assert row["latency_ms"] == 123
    totals = await kit.rollup_totals(db)
    assert totals["requests"] == len(events)
    assert totals["cost"] == sum(kit.expected_cost(e) for e in events)
    assert totals["prompt_tokens"] == sum(e.usage.prompt_tokens for e in events)
    assert "gateway_accounting_events_consumed_total 41.0" in metrics
    assert "gateway_accounting_rows_inserted_total 40.0" in metrics
    assert "gateway_accounting_duplicates_total 1.0" in metrics


async def test_a_redelivered_batch_adds_nothing(kit, db, settings_for, run_app):
    async with run_app(settings_for()) as (_, state):
        await state.database.wait_started()
        events = [kit.make_event() for _ in range(5)]
        rows = [usage_row(e) for e in events]
        assert await write_usage_batch(state.database.pool, rows) == 5
        # The crash-before-ack case: the whole batch comes again, plus one new event.
        extra = usage_row(kit.make_event())
        assert await write_usage_batch(state.database.pool, [*rows, extra, rows[0]]) == 1
    totals = await kit.rollup_totals(db)
    assert totals["requests"] == 6
    assert totals["cost"] == sum(r.cost_micro_usd for r in [*rows, extra])


async def test_two_replicas_share_the_stream_without_double_counting(
    kit, publisher, db, settings_for, run_app
):
    events = [kit.make_event(prompt_tokens=10 + i) for i in range(300)]
    async with (
        run_app(settings_for(accounting_batch_size=20)) as (_, one),
        run_app(settings_for(accounting_batch_size=20)) as (_, two),
    ):
        await kit.wait_for(lambda: _both_running(one, two), what="both consumers bound")
        for i, event in enumerate(events):
            await publisher.event(event)
            if i % 10 == 0:  # every tenth request also arrives a second time
                await publisher.event(event, msg_id=f"{event.request_id}-again")
        await kit.wait_for(lambda: _count_is(kit, db, len(events)), what="300 usage rows")
        await kit.wait_for(lambda: _all_acked(publisher), what="every message acked")
        consumed = [s.metrics.events_consumed._value.get() for s in (one, two)]
        inserted = [s.metrics.rows_inserted._value.get() for s in (one, two)]
    assert sum(consumed) == 330
    assert all(c > 0 for c in consumed), f"one replica did all the work: {consumed}"
    assert sum(inserted) == 300
    totals = await kit.rollup_totals(db)
    assert totals["requests"] == 300
    assert totals["cost"] == sum(kit.expected_cost(e) for e in events)


async def test_rollup_buckets_by_the_utc_hour_the_request_started(kit, publisher, db, settings_for, run_app):
    base = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)
    for minutes in (0, 59, 60, 61, 180):
        await publisher.event(kit.make_event(started_at=base + timedelta(minutes=minutes), status_code=200))
    await publisher.event(kit.make_event(started_at=base + timedelta(minutes=5), status_code=502))
    async with run_app(settings_for()):
        await kit.wait_for(lambda: _count_is(kit, db, 6), what="6 usage rows")
    buckets = await db.fetch(
        "SELECT bucket, requests, error_requests FROM accounting.usage_hourly ORDER BY bucket"
    )
    assert [(b["bucket"], b["requests"], b["error_requests"]) for b in buckets] == [
        (base, 3, 1),
        (base + timedelta(hours=1), 2, 0),
        (base + timedelta(hours=3), 1, 0),
    ]


async def _count_is(kit, db, expected: int) -> bool:
    return await kit.count_rows(db) == expected


async def _all_acked(publisher) -> bool:
    info = await publisher.js.consumer_info(USAGE_STREAM, DURABLE_NAME)
    return info.num_pending == 0 and info.num_ack_pending == 0


async def _both_running(*states) -> bool:
    await asyncio.sleep(0)
    return all(s.consumer.running for s in states)
