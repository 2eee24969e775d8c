"""Fixtures for accounting's integration tests: usage events on the real JetStream, the service
run in-process (its lifespan on the test loop) or as a real subprocess, and Postgres reads."""

from __future__ import annotations

import asyncio
import os
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import asyncpg
import httpx
import nats
import pytest
from gateway_accounting.app import State, create_app
from gateway_accounting.settings import AccountingSettings
from gateway_common.migrations import apply_migrations
from gateway_common.names import USAGE_SUBJECT
from gateway_common.nats import ensure_usage_stream
from gateway_devstack.procs import ManagedProcess, free_port
from gateway_proto.v1.pricing_pb2 import ModelPricing
from gateway_proto.v1.usage_pb2 import TokenUsage, UsageEvent
from google.protobuf.timestamp_pb2 import Timestamp
from nats.aio.client import Client
from nats.js import JetStreamContext
from starlette.applications import Starlette

TENANT = "0b0e6b55-3c1f-4a59-9d4e-2f6f3b7f7a01"
KEY = "5a4c7c3e-8d2b-4f1e-9a6b-1c2d3e4f5a02"
PRICING = ModelPricing(
    input_micro_usd_per_mtok=2_500_000,
    output_micro_usd_per_mtok=10_000_000,
    cached_input_micro_usd_per_mtok=1_250_000,
    priced=True,
)


def timestamp(moment: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    return stamp


def make_event(
    request_id: str | None = None,
    *,
    started_at: datetime | None = None,
    prompt_tokens: int = 1000,
    completion_tokens: int = 500,
    tenant_id: str = TENANT,
    key_id: str = KEY,
    model: str = "demo",
    provider: str = "openai",
    status_code: int = 200,
) -> UsageEvent:
    """A usage event like the proxy's; at PRICING it costs 2.5 * prompt + 10 * completion micro-USD."""
    started = started_at or datetime.now(UTC)
    return UsageEvent(
        request_id=request_id or f"req-{uuid.uuid4().hex}",
        started_at=timestamp(started),
        finished_at=timestamp(started),
        tenant_id=tenant_id,
        key_id=key_id,
        endpoint="chat.completions",
        model=model,
        provider=provider,
        provider_model="gpt-4o",
        status_code=status_code,
        usage=TokenUsage(prompt_tokens=prompt_tokens, completion_tokens=completion_tokens),
        pricing=PRICING,
        pricing_revision=7,
        duration_us=123_456,
    )


def expected_cost(event: UsageEvent) -> int:
    numerator = event.usage.prompt_tokens * 2_500_000 + event.usage.completion_tokens * 10_000_000
    return -(-numerator // 1_000_000)


async def wait_for(predicate: Callable[[], Awaitable[bool]], timeout: float = 20.0, what: str = "") -> None:
    """Poll `predicate` until it holds; fail the test naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not await predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what or predicate}")
        await asyncio.sleep(0.1)


@dataclass
class Publisher:
    """Publishes usage events to the USAGE stream the way the proxy does."""

    nc: Client
    js: JetStreamContext

    async def event(self, event: UsageEvent, msg_id: str | None = None) -> None:
        ack = await self.js.publish(
            USAGE_SUBJECT, event.SerializeToString(), headers={"Nats-Msg-Id": msg_id or event.request_id}
        )
        assert not ack.duplicate

    async def raw(self, payload: bytes, msg_id: str) -> None:
        await self.js.publish(USAGE_SUBJECT, payload, headers={"Nats-Msg-Id": msg_id})


@pytest.fixture
async def publisher(nats_url: str) -> AsyncIterator[Publisher]:
    nc = await nats.connect(nats_url, max_reconnect_attempts=-1, reconnect_time_wait=0.2)
    js = nc.jetstream()
    await ensure_usage_stream(js)
    try:
        yield Publisher(nc, js)
    finally:
        await nc.close()


@pytest.fixture
async def db(fresh_database_url: str) -> AsyncIterator[asyncpg.Pool]:
    """A pool on the test's database (lazily connected: the schema is the service's to create)."""
    pool = await asyncpg.create_pool(fresh_database_url, min_size=0, max_size=4)
    try:
        yield pool
    finally:
        await pool.close()


@pytest.fixture
def settings_for(fresh_database_url: str, nats_url: str) -> Callable[..., AccountingSettings]:
    """Settings on the test's database and NATS, free ports, and short timeouts."""

    def build(**overrides: object) -> AccountingSettings:
        values: dict[str, object] = {
            "database_url": fresh_database_url,
            "nats_url": nats_url,
            "accounting_port": free_port(),
            "accounting_grpc_port": free_port(),
            "accounting_fetch_timeout_s": 0.5,
            "accounting_batch_size": 100,
            **overrides,
        }
        return AccountingSettings(**values)  # type: ignore[arg-type]

    return build


RunningApp = Callable[[AccountingSettings], AbstractAsyncContextManager[tuple[Starlette, State]]]


@pytest.fixture
def run_app() -> RunningApp:
    """Run the service in this process: its lifespan on the test's loop, HTTP via ASGI transport."""

    @asynccontextmanager
    async def run(settings: AccountingSettings) -> AsyncIterator[tuple[Starlette, State]]:
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            yield app, app.state.accounting

    return run


async def http_get(app: Starlette, path: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://accounting") as client:
        return await client.get(path)


async def usage_rows(pool: asyncpg.Pool) -> list[asyncpg.Record]:
    return await pool.fetch("SELECT * FROM accounting.usage ORDER BY request_id")


async def rollup_totals(pool: asyncpg.Pool) -> asyncpg.Record:
    return await pool.fetchrow(
        "SELECT COALESCE(sum(requests), 0) AS requests, COALESCE(sum(cost_micro_usd), 0) AS cost,"
        " COALESCE(sum(prompt_tokens), 0) AS prompt_tokens,"
        " COALESCE(sum(completion_tokens), 0) AS completion_tokens FROM accounting.usage_hourly"
    )


async def table_exists(pool: asyncpg.Pool) -> bool:
    try:
        return bool(await pool.fetchval("SELECT to_regclass('accounting.usage') IS NOT NULL"))
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
        return False


async def count_rows(pool: asyncpg.Pool) -> int:
    if not await table_exists(pool):
        return -1
    return int(await pool.fetchval("SELECT count(*) FROM accounting.usage"))


class AccountingProcess:
    """A running `python -m gateway_accounting` and where to reach it."""

    def __init__(self, proc: ManagedProcess, http_port: int, grpc_port: int) -> None:
        self.proc = proc
        self.base_url = f"http://127.0.0.1:{http_port}"
        self.grpc_target = f"127.0.0.1:{grpc_port}"


@pytest.fixture
def start_accounting(
    fresh_database_url: str, nats_url: str, tmp_path: Path
) -> Iterator[Callable[[], AccountingProcess]]:
    """Start the service as a subprocess (Granian, one worker); each one started is stopped after."""
    started: list[ManagedProcess] = []

    def start() -> AccountingProcess:
        http_port, grpc_port = free_port(), free_port()
        env = {
            **os.environ,
            "DATABASE_URL": fresh_database_url,
            "NATS_URL": nats_url,
            "ACCOUNTING_PORT": str(http_port),
            "ACCOUNTING_GRPC_PORT": str(grpc_port),
            "ACCOUNTING_FETCH_TIMEOUT_S": "0.5",
            "LOG_LEVEL": "INFO",
        }
        proc = ManagedProcess(
            f"accounting-{len(started)}",
            [sys.executable, "-m", "gateway_accounting"],
            env=env,
            cwd=tmp_path,
            log_path=tmp_path / f"accounting-{len(started)}.log",
            ready_url=f"http://127.0.0.1:{http_port}/healthz",
        )
        proc.start()
        started.append(proc)
        proc.wait_ready(timeout=30)
        return AccountingProcess(proc, http_port, grpc_port)

    try:
        yield start
    finally:
        for proc in started:
            proc.stop()


CONTROL_MIGRATIONS = Path(__file__).resolve().parents[3] / "control" / "migrations"


@dataclass
class ControlTables:
    """Rows in control's tables (its real migrations), the way control would write them."""

    pool: asyncpg.Pool

    async def tenant(self, tenant_id: str = TENANT) -> str:
        await self.pool.execute(
            "INSERT INTO control.tenants (id, name) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            uuid.UUID(tenant_id),
            f"tenant-{tenant_id[:8]}",
        )
        return tenant_id

    async def budget(
        self,
        scope_id: str = TENANT,
        *,
        scope: str = "tenant",
        limit_micro_usd: int = 1_000_000,
        period: str = "daily",
        rolling_days: int | None = None,
        timezone: str = "UTC",
        hard: bool = True,
        thresholds: tuple[int, ...] = (50, 80, 100),
    ) -> uuid.UUID:
        budget_id: uuid.UUID = await self.pool.fetchval(
            "INSERT INTO control.budgets (scope, scope_id, limit_micro_usd, period, rolling_days, timezone,"
            " hard, thresholds) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
            scope,
            uuid.UUID(scope_id),
            limit_micro_usd,
            period,
            rolling_days,
            timezone,
            hard,
            list(thresholds),
        )
        return budget_id

    async def channel(
        self, kind: str, target: str, *, tenant_id: str | None = TENANT, settings: str = "{}"
    ) -> uuid.UUID:
        channel_id: uuid.UUID = await self.pool.fetchval(
            "INSERT INTO control.alert_channels (tenant_id, name, kind, target, settings)"
            " VALUES ($1, $2, $3, $4, $5::jsonb) RETURNING id",
            uuid.UUID(tenant_id) if tenant_id else None,
            f"{kind}-{uuid.uuid4().hex[:8]}",
            kind,
            target,
            settings,
        )
        return channel_id


@pytest.fixture
async def control(fresh_database_url: str, db: asyncpg.Pool) -> ControlTables:
    """The control schema on the test's database (accounting reads budgets from it), one tenant."""
    await apply_migrations(fresh_database_url, "control", CONTROL_MIGRATIONS)
    tables = ControlTables(db)
    await tables.tenant()
    return tables


@pytest.fixture
def kit() -> SimpleNamespace:
    """The helpers above, for test modules (which cannot import conftest under importlib mode)."""
    return SimpleNamespace(
        TENANT=TENANT,
        KEY=KEY,
        make_event=make_event,
        expected_cost=expected_cost,
        wait_for=wait_for,
        timestamp=timestamp,
        http_get=http_get,
        usage_rows=usage_rows,
        rollup_totals=rollup_totals,
        count_rows=count_rows,
    )
