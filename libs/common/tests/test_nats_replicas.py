"""NATS_STREAM_REPLICAS reaches JetStream: streams and KV buckets are created with it, and an
existing stream is never scaled down by a service asking for fewer (a real single-node server)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import nats
import pytest
from gateway_common.names import USAGE_STREAM
from gateway_common.nats import ensure_bucket, ensure_usage_stream
from nats.js import JetStreamContext
from nats.js.errors import APIError


@pytest.fixture
async def js(nats_url: str) -> AsyncIterator[JetStreamContext]:
    client = await nats.connect(nats_url)
    yield client.jetstream()
    await client.close()


async def test_the_usage_stream_and_buckets_get_the_replicas_asked_for(js: JetStreamContext) -> None:
    await ensure_usage_stream(js, replicas=1)
    await ensure_bucket(js, "replicas_test", history=2, replicas=1)
    assert (await js.stream_info(USAGE_STREAM)).config.num_replicas == 1
    assert (await js.stream_info("KV_replicas_test")).config.num_replicas == 1
    # Asking again with the default changes nothing.
    await ensure_usage_stream(js)
    await ensure_bucket(js, "replicas_test", history=2)
    assert (await js.stream_info(USAGE_STREAM)).config.num_replicas == 1


async def test_three_replicas_are_asked_of_the_server(js: JetStreamContext) -> None:
    """One server cannot hold three copies: its refusal proves the count was sent."""
    with pytest.raises(APIError):
        await ensure_usage_stream(js, replicas=3)
    with pytest.raises(APIError):
        await ensure_bucket(js, "replicas_three", replicas=3)


async def test_an_existing_stream_is_raised_not_lowered(js: JetStreamContext) -> None:
    await ensure_usage_stream(js, replicas=1)
    # Raising to 3 on one server is refused by the server: the update was attempted.
    with pytest.raises(APIError):
        await ensure_usage_stream(js, replicas=3)
    assert (await js.stream_info(USAGE_STREAM)).config.num_replicas == 1
