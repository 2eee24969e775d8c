"""Accounting's migrations and generated asyncpg queries, run against a fresh real database."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest
from gateway_accounting.db import budget_alerts, dead_letters, reports, rollups, usage
from gateway_common.migrations import apply_migrations, discover_migrations

MIGRATIONS = Path(__file__).resolve().parents[3] / "services" / "accounting" / "migrations"
UTC = datetime.UTC
TENANT = uuid.UUID("11111111-1111-1111-1111-111111111111")
KEY_A = uuid.UUID("aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa")
KEY_B = uuid.UUID("bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb")


@dataclass(frozen=True)
class Request:
    request_id: str
    started_at: datetime.datetime
    key_id: uuid.UUID = KEY_A
    model: str = "gpt-4o-mini"
    status_code: int = 200
    prompt_tokens: int = 100
    completion_tokens: int = 20
    cost_micro_usd: int = 1_000


@pytest.fixture
async def conn(fresh_database_url: str) -> AsyncIterator[asyncpg.Connection]:
    applied = await apply_migrations(fresh_database_url, "accounting", MIGRATIONS)
    assert applied == [m.version for m in discover_migrations(MIGRATIONS)]
    assert applied[0] == "0001_init"
    connection = await asyncpg.connect(fresh_database_url)
    try:
        yield connection
    finally:
        await connection.close()


async def insert(conn: asyncpg.Connection, requests: list[Request]) -> list[str]:
    """Insert usage rows and roll the new ones up, in one statement, as the consumer does."""
    return await usage.store_usage_batch(
        conn,
        request_ids=[r.request_id for r in requests],
        tenant_ids=[TENANT for _ in requests],
        key_ids=[r.key_id for r in requests],
        user_ids=[None for _ in requests],
        models=[r.model for r in requests],
        deployment_ids=[uuid.uuid4() if r.status_code < 400 else None for r in requests],
        providers=["openai" for _ in requests],
        endpoints=["/v1/chat/completions" for _ in requests],
        status_codes=[r.status_code for r in requests],
        error_codes=[None if r.status_code < 400 else "upstream_error" for r in requests],
        streams=[False for _ in requests],
        prompt_tokens=[r.prompt_tokens for r in requests],
        completion_tokens=[r.completion_tokens for r in requests],
        cached_tokens=[0 for _ in requests],
        reasoning_tokens=[0 for _ in requests],
        estimated=[False for _ in requests],
        cost_micro_usd=[r.cost_micro_usd for r in requests],
        pricing_revisions=[7 for _ in requests],
        started_at=[r.started_at for r in requests],
        finished_at=[r.started_at + datetime.timedelta(milliseconds=250) for r in requests],
        latency_ms=[250 for _ in requests],
        client_disconnected=[False for _ in requests],
    )


async def test_same_request_id_is_stored_and_counted_once(conn: asyncpg.Connection) -> None:
    at = datetime.datetime(2026, 3, 1, 12, 15, tzinfo=UTC)
    first = await insert(conn, [Request("req-1", at), Request("req-2", at)])
    again = await insert(conn, [Request("req-1", at), Request("req-3", at)])

    assert sorted(first) == ["req-1", "req-2"]
    assert again == ["req-3"]
    assert await conn.fetchval("SELECT count(*) FROM accounting.usage") == 3
    stored = await usage.get_usage(conn, request_id="req-1")
    assert stored is not None
    assert (stored.tenant_id, stored.user_id, stored.error_code, stored.pricing_revision) == (
        TENANT,
        None,
        None,
        7,
    )
    total = await reports.summarize_usage(
        conn,
        start_at=at.replace(minute=0),
        end_at=at.replace(minute=0, hour=13),
        tenant_id=TENANT,
        key_id=None,
        model=None,
    )
    assert total is not None
    assert (total.requests, total.prompt_tokens, total.cost_micro_usd) == (3, 300, 3_000)


async def test_duplicates_within_one_batch_are_inserted_once(conn: asyncpg.Connection) -> None:
    at = datetime.datetime(2026, 3, 1, 12, 15, tzinfo=UTC)
    assert await insert(conn, [Request("dup", at), Request("dup", at)]) == ["dup"]
    assert await conn.fetchval("SELECT requests FROM accounting.usage_hourly") == 1


async def test_summary_and_breakdowns_come_from_the_rollup(conn: asyncpg.Connection) -> None:
    day = datetime.datetime(2026, 3, 1, tzinfo=UTC)
    await insert(
        conn,
        [
            Request("a", day + datetime.timedelta(hours=10), cost_micro_usd=5_000),
            Request("b", day + datetime.timedelta(hours=10, minutes=30), key_id=KEY_B, model="claude"),
            Request("c", day + datetime.timedelta(hours=16), status_code=502, cost_micro_usd=0),
            Request("d", day + datetime.timedelta(days=1, hours=1), cost_micro_usd=2_000),
        ],
    )
    start, end = day, day + datetime.timedelta(days=2)

    total = await reports.summarize_usage(
        conn, start_at=start, end_at=end, tenant_id=None, key_id=None, model=None
    )
    assert total is not None
    assert (total.requests, total.error_requests, total.cost_micro_usd) == (4, 1, 8_000)
    only_b = await reports.summarize_usage(
        conn, start_at=start, end_at=end, tenant_id=TENANT, key_id=KEY_B, model=None
    )
    assert only_b is not None
    assert only_b.requests == 1

    async def breakdown(dimension: str, tz: str = "UTC") -> list[reports.BreakDownUsageRow]:
        return await reports.break_down_usage(
            conn,
            dimension=dimension,
            tz=tz,
            start_at=start,
            end_at=end,
            tenant_id=TENANT,
            key_id=None,
            model=None,
        )

    by_model = await breakdown("model")
    assert [(r.group_key, r.requests, r.cost_micro_usd) for r in by_model] == [
        ("gpt-4o-mini", 3, 7_000),
        ("claude", 1, 1_000),
    ]
    by_key = await breakdown("key")
    assert [(r.group_key, r.requests) for r in by_key] == [(str(KEY_A), 3), (str(KEY_B), 1)]

    # UTC 16:00 on March 1st is 01:00 on March 2nd in Tokyo (+09:00): the day moves.
    tokyo = await breakdown("day", tz="Asia/Tokyo")
    assert [(r.group_key, r.requests) for r in tokyo] == [
        (datetime.date(2026, 3, 1).isoformat(), 2),
        (datetime.date(2026, 3, 2).isoformat(), 2),
    ]
    utc = await breakdown("day")
    assert [(r.group_key, r.requests) for r in utc] == [
        (datetime.date(2026, 3, 1).isoformat(), 3),
        (datetime.date(2026, 3, 2).isoformat(), 1),
    ]


async def test_upsert_usage_hourly_adds_increments(conn: asyncpg.Connection) -> None:
    bucket = datetime.datetime(2026, 3, 1, 9, tzinfo=UTC)
    increments = {
        "buckets": [bucket, bucket],
        "tenant_ids": [TENANT, TENANT],
        "key_ids": [KEY_A, KEY_A],
        "models": ["m", "m"],
        "providers": ["p", "p"],
        "requests": [1, 2],
        "error_requests": [0, 1],
        "prompt_tokens": [10, 20],
        "completion_tokens": [1, 2],
        "cached_tokens": [0, 0],
        "reasoning_tokens": [0, 0],
        "cost_micro_usd": [100, 200],
    }
    assert await rollups.upsert_usage_hourly(conn, **increments) == 1
    assert await rollups.upsert_usage_hourly(conn, **increments) == 1
    row = await conn.fetchrow("SELECT requests, error_requests, cost_micro_usd FROM accounting.usage_hourly")
    assert tuple(row) == (6, 2, 600)

    with pytest.raises(asyncpg.CheckViolationError):
        await rollups.upsert_usage_hourly(conn, **{**increments, "buckets": [bucket.replace(minute=5)] * 2})


async def test_request_log_pages_newest_first(conn: asyncpg.Connection) -> None:
    at = datetime.datetime(2026, 3, 1, 8, tzinfo=UTC)
    await insert(conn, [Request(f"r{i}", at + datetime.timedelta(minutes=i)) for i in range(5)])
    window = {"start_at": at, "end_at": at + datetime.timedelta(hours=1), "tenant_id": TENANT, "key_id": None}

    first = await usage.list_usage_requests(
        conn, **window, model=None, before_started_at=None, before_request_id=None, limit=2
    )
    last = first[-1]
    second = await usage.list_usage_requests(
        conn,
        **window,
        model=None,
        before_started_at=last.started_at,
        before_request_id=last.request_id,
        limit=2,
    )
    assert [r.request_id for r in first] == ["r4", "r3"]
    assert [r.request_id for r in second] == ["r2", "r1"]


async def test_budget_alert_is_claimed_once(conn: asyncpg.Connection) -> None:
    claim = {
        "budget_id": uuid.uuid4(),
        "period_start": datetime.datetime(2026, 3, 1, tzinfo=UTC),
        "threshold": 80,
        "spent_micro_usd": 4_000_000,
    }
    assert await budget_alerts.claim_budget_alert(conn, **claim) == 1
    assert await budget_alerts.claim_budget_alert(conn, **claim) == 0


async def test_dead_letters_are_kept_until_resolved(conn: asyncpg.Connection) -> None:
    letter_id = await dead_letters.insert_dead_letter(
        conn,
        stream_sequence=42,
        subject="gateway.usage.v1",
        msg_id=None,
        payload=b"\xff",
        error="bad protobuf",
    )
    assert letter_id is not None
    (pending,) = await dead_letters.list_unresolved_dead_letters(conn, limit=10)
    assert (pending.id, pending.payload, pending.msg_id) == (letter_id, b"\xff", None)
    assert await dead_letters.resolve_dead_letter(conn, id=letter_id) == 1
    assert await dead_letters.resolve_dead_letter(conn, id=letter_id) == 0
    assert await dead_letters.list_unresolved_dead_letters(conn, limit=10) == []
