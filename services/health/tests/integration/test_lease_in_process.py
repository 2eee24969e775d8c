"""KvLeaseOwnership on the real NATS, in-process, with controllable clocks."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
from gateway_common.nats import NatsConnection
from gateway_health.lease import LEASE_BUCKET, KvLeaseOwnership


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def connection(nats_url: str) -> AsyncIterator[NatsConnection]:
    conn = NatsConnection(nats_url, name="health-lease-test")
    conn.start()
    await conn.wait_connected(timeout=10)
    try:
        yield conn
    finally:
        await conn.close()


async def _stored(connection: NatsConnection, key: str) -> dict[str, object]:
    kv = await connection.jetstream.key_value(LEASE_BUCKET)
    entry = await kv.get(key)
    value: dict[str, object] = json.loads(entry.value or b"")
    return value


async def test_lease_is_exclusive_renewed_taken_over_only_after_expiry_and_released(
    connection: NatsConnection,
) -> None:
    clock = Clock()
    a = KvLeaseOwnership(connection, "replica-a", ttl_s=10, clock=clock)
    b = KvLeaseOwnership(connection, "replica-b", ttl_s=10, clock=clock)

    assert await a.owns("d1")
    assert not await b.owns("d1")
    assert await _stored(connection, "d1") == {"holder": "replica-a", "expires_at": clock.now + 10}

    clock.now += 9  # A renews before expiry; B still cannot take it
    assert await a.owns("d1")
    clock.now += 9
    assert not await b.owns("d1")
    assert a.held == frozenset({"d1"})

    clock.now += 1.5  # A silent for more than the TTL: B takes over, A has lost it
    assert await b.owns("d1")
    assert not await a.owns("d1")
    assert a.held == frozenset()
    assert (await _stored(connection, "d1"))["holder"] == "replica-b"

    await a.release("d1")  # A no longer holds it: B's lease survives
    assert (await _stored(connection, "d1"))["holder"] == "replica-b"
    await b.release("d1")  # released: A gets it at once, without waiting for expiry
    assert await a.owns("d1")
    assert not await b.owns("d1")


async def test_a_stale_holder_cannot_delete_a_lease_taken_over(connection: NatsConnection) -> None:
    clock = Clock()
    a = KvLeaseOwnership(connection, "replica-a", ttl_s=5, clock=clock)
    b = KvLeaseOwnership(connection, "replica-b", ttl_s=5, clock=clock)
    assert await a.owns("d2")
    clock.now += 6
    assert await b.owns("d2")
    # A has not looked since; it still thinks it holds d2, but release is revision-checked.
    assert a.held == frozenset({"d2"})
    await a.release("d2")
    assert (await _stored(connection, "d2"))["holder"] == "replica-b"


async def test_concurrent_claims_have_exactly_one_winner(connection: NatsConnection) -> None:
    replicas = [KvLeaseOwnership(connection, f"replica-{i}", ttl_s=30) for i in range(5)]
    for key in ("d3", "d4", "d5"):
        wins = await asyncio.gather(*(r.owns(key) for r in replicas))
        assert sum(wins) == 1, (key, wins)
