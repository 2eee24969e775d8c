"""The rate limiter when Redis stops answering: each request decided locally within the timeout.

Redis here is real: a Valkey of the test's own, frozen with SIGSTOP (its port still accepts
connections, nothing answers), or a TCP listener that accepts and never answers, or a port
nothing listens on. The limiter runs with its production defaults (50 ms, its own client).
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from gateway_common.redis import connect_redis
from gateway_devstack.procs import free_port
from gateway_devstack.valkey import ValkeyServer
from gateway_proto.v1.keys_pb2 import KeyRecord
from gateway_proxy.auth import Principal
from gateway_proxy.limits import Grant, Limits, RateLimiter

PRINCIPAL = Principal.from_record(KeyRecord(key_id="key-1", tenant_id="tenant-1"))
LIMITS = Limits(key_rpm=1_000)
# The bound for one request against a Redis that does not answer (timeout 50 ms).
BOUND_S = 0.15


@pytest.fixture
def own_valkey(tmp_path: Path) -> Iterator[ValkeyServer]:
    """A Valkey this test may freeze (the session's is shared)."""
    server = ValkeyServer(
        port=free_port(),
        data_dir=tmp_path / "valkey",
        log_path=tmp_path / "valkey.log",
        start_timeout=30,
        stop_timeout=10,
    )
    server.start()
    try:
        yield server
    finally:
        if server.pid is not None:
            os.kill(server.pid, signal.SIGCONT)  # a stopped server would not act on SIGTERM
        server.stop()


@pytest.fixture
async def black_hole() -> AsyncIterator[int]:
    """A port that accepts connections and reads everything, and never answers."""

    async def swallow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while await reader.read(4096):
            pass
        writer.close()

    server = await asyncio.start_server(swallow, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()


async def timed_admit(limiter: RateLimiter) -> tuple[Grant, float]:
    started = time.monotonic()
    grant = await limiter.admit(PRINCIPAL, LIMITS, 0)
    return grant, time.monotonic() - started


async def test_a_stopped_valkey_is_decided_locally_within_the_timeout(own_valkey: ValkeyServer) -> None:
    client = connect_redis(own_valkey.url, timeout_s=1.0)  # as guards.py: 1 s is only the backstop
    limiter = RateLimiter(client, outage_retry_s=0.5)
    assert own_valkey.pid is not None
    try:
        grant, _ = await timed_admit(limiter)
        assert not grant.local  # shared limits while Valkey answers

        os.kill(own_valkey.pid, signal.SIGSTOP)
        waits = []
        for attempt in range(3):
            grant, waited = await timed_admit(limiter)
            waits.append(waited)
            assert grant.local
            # A lone timeout decides one request; the third in a row switches the process.
            assert limiter.degraded == (attempt == 2)
        print(f"stopped Valkey: requests decided locally after {[round(w * 1000) for w in waits]} ms")
        assert max(waits) <= BOUND_S
        grant, waited = await timed_admit(limiter)
        assert grant.local
        assert waited < 0.01  # switched: Redis is not asked at all

        os.kill(own_valkey.pid, signal.SIGCONT)
        deadline = time.monotonic() + 5
        while (await limiter.admit(PRINCIPAL, LIMITS, 0)).local:
            assert time.monotonic() < deadline, "never back on the shared limits"
            await asyncio.sleep(0.05)
        assert not limiter.degraded
    finally:
        await client.aclose()


async def test_requests_in_flight_to_a_peer_that_never_answers_are_decided_locally(black_hole: int) -> None:
    client = connect_redis(f"redis://127.0.0.1:{black_hole}/0", timeout_s=1.0)
    limiter = RateLimiter(client)
    try:
        results = await asyncio.gather(*(timed_admit(limiter) for _ in range(20)))
        waits = sorted(round(waited * 1000) for _, waited in results)
        print(f"black hole, 20 at once: decided locally after {waits[0]}-{waits[-1]} ms")
        assert all(grant.local for grant, _ in results)
        assert waits[-1] <= BOUND_S * 1000
        assert limiter.degraded
    finally:
        await client.aclose()


async def test_a_refused_connection_switches_to_local_limits_at_once() -> None:
    client = connect_redis(f"redis://127.0.0.1:{free_port()}/0", timeout_s=1.0)
    limiter = RateLimiter(client)
    try:
        grant, waited = await timed_admit(limiter)
        assert grant.local
        assert limiter.degraded  # one refusal is enough: nothing is listening
        assert waited <= BOUND_S
    finally:
        await client.aclose()
