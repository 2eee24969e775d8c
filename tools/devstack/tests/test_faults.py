"""Servers stop and start individually on the same port and data; a root is reused across runs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import nats
import psycopg
import pytest
import redis
from gateway_devstack import (
    DevStack,
    ProcessExitedError,
    StackLockedError,
    StackSettings,
    build_embedded_stack,
)
from gateway_devstack.postgres import PostgresServer
from gateway_devstack.procs import pid_alive
from gateway_devstack.roots import temporary_root
from gateway_devstack.state import read_state
from nats.js.api import StreamConfig


@pytest.fixture(scope="module")
def own_root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    with temporary_root(keep_logs_in=tmp_path_factory.mktemp("faults")) as root:
        yield root


@pytest.fixture
def throwaway_root(tmp_path: Path) -> Iterator[Path]:
    with temporary_root(keep_logs_in=tmp_path) as root:
        yield root


@pytest.fixture(scope="module")
def own_stack(own_root: Path) -> Iterator[DevStack]:
    """A stack of this module's own, so stopping its servers cannot disturb other tests."""
    with build_embedded_stack(StackSettings(root=own_root, durable=False)) as stack:
        stack.start()
        yield stack


def _pid(stack: DevStack, name: str) -> int:
    servers = read_state(stack.root)["servers"]
    assert isinstance(servers, dict)
    pid = servers[name]["pid"]
    assert isinstance(pid, int)
    return pid


def test_redis_stops_and_restarts_on_the_same_port(own_stack: DevStack) -> None:
    url = own_stack.endpoints.redis_url
    old_pid = _pid(own_stack, "redis")
    with redis.Redis.from_url(url, socket_connect_timeout=1) as client:
        client.set("k", "before")
        own_stack.stop_redis()
        assert not pid_alive(old_pid)
        assert read_state(own_stack.root)["servers"]["redis"]["pid"] is None  # type: ignore[index]
        with pytest.raises(redis.ConnectionError):
            client.ping()
        own_stack.start_redis()
        assert own_stack.endpoints.redis_url == url
        assert _pid(own_stack, "redis") != old_pid
        assert client.get("k") is None  # no persistence: a restarted Valkey is empty
        client.set("k", "after")
        assert client.get("k") == b"after"


def test_postgres_stops_and_restarts_with_its_data(own_stack: DevStack) -> None:
    url = own_stack.endpoints.database_url
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE kept (v text)")
        conn.execute("INSERT INTO kept VALUES ('survives')")
    own_stack.stop_postgres()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(url, connect_timeout=1)
    own_stack.start_postgres()
    assert own_stack.endpoints.database_url == url
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT v FROM kept").fetchall() == [("survives",)]


async def test_nats_stops_and_restarts_with_its_jetstream_store(own_stack: DevStack) -> None:
    url = own_stack.endpoints.nats_url
    nc = await nats.connect(url)
    await nc.jetstream().add_stream(StreamConfig(name="KEPT", subjects=["kept"]))
    await nc.close()
    own_stack.stop_nats()
    with pytest.raises((nats.errors.NoServersError, OSError)):
        await nats.connect(url, allow_reconnect=False, max_reconnect_attempts=1, reconnect_time_wait=0.1)
    own_stack.start_nats()
    nc = await nats.connect(url)
    try:
        info = await nc.jetstream().stream_info("KEPT")
        assert info.config.name == "KEPT"
    finally:
        await nc.close()


def test_a_second_stack_on_the_same_root_is_refused(own_stack: DevStack, own_root: Path) -> None:
    second = build_embedded_stack(StackSettings(root=own_root))
    with pytest.raises(StackLockedError):
        second.start()


def test_a_root_is_reused_with_its_ports_and_data(throwaway_root: Path) -> None:
    settings = StackSettings(root=throwaway_root, durable=False)
    with build_embedded_stack(settings) as first:
        first.start()
        endpoints = first.endpoints
        with psycopg.connect(endpoints.database_url, autocommit=True) as conn:
            conn.execute("CREATE TABLE persisted (v int)")
    assert read_state(throwaway_root)["running"] is False
    pg_version = throwaway_root / "postgres" / "data" / "PG_VERSION"
    initialized_at = pg_version.stat().st_mtime_ns
    with build_embedded_stack(settings) as second:
        second.start()
        assert second.endpoints == endpoints
        with psycopg.connect(second.endpoints.database_url) as conn:
            assert conn.execute("SELECT count(*) FROM persisted").fetchone() == (0,)
    assert pg_version.stat().st_mtime_ns == initialized_at
    assert (throwaway_root / "logs" / "postgres.log").read_text().count("creating directory") == 1


def test_a_failed_start_reports_the_log_and_leaves_nothing(throwaway_root: Path) -> None:
    stack = build_embedded_stack(StackSettings(root=throwaway_root, durable=False))
    postgres = stack.server("postgres")
    assert isinstance(postgres, PostgresServer)
    with stack:
        stack.start()
        stack.stop_postgres()
        (postgres.data_dir / "postgresql.auto.conf").write_text("shared_buffers = 'not a size'\n")
        with pytest.raises(ProcessExitedError, match="shared_buffers") as excinfo:
            stack.start_postgres()
        assert excinfo.value.name == "postgres"
        assert not postgres.is_running()
        assert read_state(throwaway_root)["servers"]["postgres"]["pid"] is None  # type: ignore[index]
    assert read_state(throwaway_root)["running"] is False
