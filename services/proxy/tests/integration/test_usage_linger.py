"""The usage publisher's linger (`USAGE_PUBLISH_LINGER_S`): events that come within the linger
go out as one batch, none is published before it ends, and stopping during it loses nothing.

Against the stack's real NATS, into a stream of the test's own (so the proxy's USAGE stream and
the other tests' events are not touched)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Sequence

import pytest
from gateway_common.nats import NatsConnection
from gateway_proto.v1.usage_pb2 import UsageEvent
from gateway_proxy import usage_publisher
from gateway_proxy.metrics import ProxyMetrics
from gateway_proxy.usage_publisher import QueuedEvent, UsagePublisher
from nats.js.api import StreamConfig

LINGER_S = 0.3


class _CountingPublisher(UsagePublisher):
    """Records the size of every batch it publishes."""

    batches: list[int]

    async def _publish_batch(self, events: Sequence[QueuedEvent]) -> list[bool]:
        self.batches.append(len(events))
        return await super()._publish_batch(events)


@pytest.fixture
async def stream(nats_url: str, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[tuple[NatsConnection, str]]:
    """A connection and a stream of this test's own capturing the publisher's subject."""
    suffix = os.urandom(4).hex()
    subject = f"test.linger.{suffix}"
    monkeypatch.setattr(usage_publisher, "USAGE_SUBJECT", subject)
    nats = NatsConnection(nats_url, "linger-test")
    nats.start()
    await nats.wait_connected(10)
    name = f"LINGER_{suffix}"
    await nats.jetstream.add_stream(StreamConfig(name=name, subjects=[subject]))
    try:
        yield nats, name
    finally:
        await nats.jetstream.delete_stream(name)
        await nats.close()


def _started(nats: NatsConnection) -> _CountingPublisher:
    publisher = _CountingPublisher(
        nats, ProxyMetrics(), queue_size=100, publish_timeout_s=2.0, concurrency=64, linger_s=LINGER_S
    )
    publisher.batches = []
    publisher.start()
    return publisher


async def _stored(nats: NatsConnection, name: str) -> int:
    return int((await nats.jetstream.stream_info(name)).state.messages)


async def test_events_within_the_linger_go_out_as_one_batch(stream: tuple[NatsConnection, str]) -> None:
    nats, name = stream
    publisher = _started(nats)
    for i in range(5):
        publisher.submit(UsageEvent(request_id=f"linger-{i}"))
        await asyncio.sleep(0.02)
    assert await _stored(nats, name) == 0  # still lingering: nothing published yet
    deadline = asyncio.get_running_loop().time() + 5
    while await _stored(nats, name) < 5 and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.05)
    assert await _stored(nats, name) == 5
    assert publisher.batches == [5]
    assert await publisher.close(timeout_s=2.0) == 0


async def test_closing_during_the_linger_publishes_what_waited(stream: tuple[NatsConnection, str]) -> None:
    nats, name = stream
    publisher = _started(nats)
    for i in range(3):
        publisher.submit(UsageEvent(request_id=f"closing-{i}"))
    await asyncio.sleep(0.05)
    assert publisher.pending == 3  # the one taken off the queue still counts while it lingers
    assert await publisher.close(timeout_s=2.0) == 0
    assert await _stored(nats, name) == 3
