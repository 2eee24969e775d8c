"""The session stack's servers are real and the per-test reset fixtures reset them."""

from __future__ import annotations

import os
import pwd
import socket
from pathlib import Path

import nats
import psycopg
import pytest
import redis
from gateway_devstack import DevStack, Stack
from gateway_devstack.errors import ProcessExitedError
from gateway_devstack.nats_server import NatsServer
from gateway_devstack.procs import pid_alive
from gateway_devstack.resets import flush_redis, fresh_database, purge_jetstream_async
from gateway_devstack.state import read_state
from gateway_devstack.valkey import ValkeyServer
from nats.js.api import StreamConfig


def test_postgres_is_postgresql_18_with_the_gateway_database(stack: Stack) -> None:
    url = stack.endpoints.database_url
    assert url.startswith("postgresql://postgres@127.0.0.1:")
    assert url.endswith("/gateway")
    with psycopg.connect(url) as conn:
        version = conn.execute("SHOW server_version_num").fetchone()
        database = conn.execute("SELECT current_database()").fetchone()
        conn.execute("CREATE TEMP TABLE t (id int)")
        conn.execute("INSERT INTO t VALUES (1), (2)")
        total = conn.execute("SELECT sum(id) FROM t").fetchone()
    assert version is not None
    assert int(version[0]) // 10000 == 18
    assert database == ("gateway",)
    assert total == (3,)


def test_redis_set_and_get(redis_url: str) -> None:
    assert redis_url.startswith("redis://127.0.0.1:")
    with redis.Redis.from_url(redis_url) as client:
        assert client.dbsize() == 0
        client.set("gw:test", "value")
        assert client.get("gw:test") == b"value"


async def test_nats_jetstream_publish_and_kv(nats_url: str) -> None:
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        assert await js.streams_info() == []
        await js.add_stream(StreamConfig(name="USAGE", subjects=["gateway.usage.v1"]))
        ack = await js.publish("gateway.usage.v1", b"event", headers={"Nats-Msg-Id": "r1"})
        duplicate = await js.publish("gateway.usage.v1", b"event", headers={"Nats-Msg-Id": "r1"})
        assert ack.stream == "USAGE"
        assert duplicate.duplicate is True
        kv = await js.create_key_value(bucket="gateway_config")
        await kv.put("snapshot", b"v1")
        entry = await kv.get("snapshot")
        assert entry.value == b"v1"
    finally:
        await nc.close()


async def test_nats_url_fixture_starts_without_streams_or_buckets(nats_url: str) -> None:
    # Runs after the test above created USAGE and gateway_config.
    nc = await nats.connect(nats_url)
    try:
        assert await nc.jetstream().streams_info() == []
    finally:
        await nc.close()


async def test_purge_jetstream_deletes_streams_and_kv_buckets(stack: Stack) -> None:
    url = stack.endpoints.nats_url
    nc = await nats.connect(url)
    try:
        js = nc.jetstream()
        await js.add_stream(StreamConfig(name="PURGE_ME", subjects=["purge.me"]))
        await js.create_key_value(bucket="purge_bucket")
        deleted = await purge_jetstream_async(url)
        assert {"PURGE_ME", "KV_purge_bucket"} <= set(deleted)
        assert await js.streams_info() == []
    finally:
        await nc.close()


def test_flush_redis_empties_the_server(stack: Stack) -> None:
    with redis.Redis.from_url(stack.endpoints.redis_url) as client:
        client.set("left-over", "1")
        flush_redis(stack.endpoints.redis_url)
        assert client.exists("left-over") == 0


def test_fresh_database_url_is_a_new_empty_database(stack: Stack, fresh_database_url: str) -> None:
    assert fresh_database_url != stack.endpoints.database_url
    with psycopg.connect(fresh_database_url) as conn:
        row = conn.execute("SELECT current_database(), count(*) FROM pg_tables WHERE schemaname = 'public'")
        name, tables = row.fetchone() or (None, None)
    assert name is not None
    assert name.startswith("test_")
    assert tables == 0


def test_fresh_database_is_dropped_even_with_open_connections(stack: Stack) -> None:
    with fresh_database(stack.endpoints.database_url) as url:
        name = url.rsplit("/", 1)[1]
        leftover = psycopg.connect(url)
    try:
        with psycopg.connect(stack.endpoints.database_url) as admin:
            found = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        assert found is None
    finally:
        leftover.close()


def _field(pid: int, key: str) -> str:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{key}:"):
            return line.split()[1]
    raise AssertionError(f"{key} missing from /proc/{pid}/status")


def test_servers_are_direct_children_recorded_in_stack_json(stack: Stack) -> None:
    assert isinstance(stack, DevStack)
    state = read_state(stack.root)
    servers = state["servers"]
    assert isinstance(servers, dict)
    assert state["running"] is True
    for name in ("postgres", "redis", "nats"):
        pid = servers[name]["pid"]
        assert pid_alive(pid)
        assert int(_field(pid, "PPid")) == os.getpid()
        assert f":{servers[name]['port']}" in servers[name]["url"]


def test_postgres_runs_unprivileged(stack: Stack) -> None:
    assert isinstance(stack, DevStack)
    servers = read_state(stack.root)["servers"]
    assert isinstance(servers, dict)
    uid = int(_field(servers["postgres"]["pid"], "Uid"))
    expected = "gwpostgres" if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name
    assert pwd.getpwuid(uid).pw_name == expected


def _occupied_port() -> tuple[socket.socket, int]:
    """A port another program listens on (what a stolen free port looks like)."""
    holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    port: int = holder.getsockname()[1]
    return holder, port


def test_a_first_start_moves_off_ports_taken_since_they_were_chosen(tmp_path: Path) -> None:
    holder, taken = _occupied_port()
    monitor_holder, monitor_taken = _occupied_port()
    server = NatsServer(
        port=taken,
        monitor_port=monitor_taken,
        store_dir=tmp_path / "js",
        log_path=tmp_path / "nats.log",
        start_timeout=20,
        stop_timeout=10,
    )
    try:
        server.start(choose_ports=True)
        assert server.is_running()
        assert server.port != taken
        assert server.monitor_port != monitor_taken
        assert server.url == f"nats://127.0.0.1:{server.port}"
    finally:
        server.stop()
        holder.close()
        monitor_holder.close()


def test_a_restart_keeps_its_port_and_fails_if_it_is_taken(tmp_path: Path) -> None:
    holder, taken = _occupied_port()
    server = ValkeyServer(
        port=taken, data_dir=tmp_path / "v", log_path=tmp_path / "v.log", start_timeout=20, stop_timeout=10
    )
    try:
        with pytest.raises(ProcessExitedError, match=r"(?i)address already in use"):
            server.start()
        assert server.port == taken
        assert not server.is_running()
    finally:
        server.stop()
        holder.close()
