"""Metering: the provider's usage when it can be real; otherwise the gateway's own count."""

from __future__ import annotations

import time

import orjson
import pytest
from gateway_proto.v1.keys_pb2 import KeyRecord
from gateway_proto.v1.pricing_pb2 import ModelPricing
from gateway_providers import Endpoint, Usage
from gateway_proxy.auth import Principal
from gateway_proxy.metering import MAX_AUDIO_SECONDS, meter_response, meter_stream
from gateway_proxy.tokens import TokenEstimator
from gateway_proxy.usage import UsageRecord, build_usage_event

BODY = {"model": "chat", "messages": [{"role": "user", "content": "Say hello to the world."}]}
REPLY = orjson.dumps(
    {"choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello, world!"}}]}
)


def _record(endpoint: Endpoint = Endpoint.CHAT_COMPLETIONS) -> UsageRecord:
    return UsageRecord(
        request_id="req-1",
        endpoint=endpoint,
        principal=Principal.from_record(KeyRecord(key_id="k1", tenant_id="t1", user_id="u1")),
        model="chat",
        pricing=ModelPricing(input_micro_usd_per_mtok=1, output_micro_usd_per_mtok=2, priced=True),
        pricing_revision=1,
        stream=False,
        started_unix=1_800_000_000.0,
        started=time.perf_counter(),
    )


@pytest.fixture(scope="module")
def estimator() -> TokenEstimator:
    counter = TokenEstimator()
    counter.warm()
    return counter


async def test_real_provider_usage_is_billed_as_reported(estimator: TokenEstimator) -> None:
    record = _record()
    await meter_response(record, Endpoint.CHAT_COMPLETIONS, BODY, REPLY, Usage(11, 4), estimator)
    assert record.usage == Usage(11, 4)
    assert not record.estimated


@pytest.mark.parametrize(
    "reported",
    [Usage(2**63, 4), Usage(11, -4), Usage(11, 4, reasoning_tokens=10**10)],
    ids=["past-int64", "negative", "absurd-detail"],
)
async def test_impossible_provider_usage_is_counted_instead(
    estimator: TokenEstimator, reported: Usage, caplog: pytest.LogCaptureFixture
) -> None:
    record = _record()
    await meter_response(record, Endpoint.CHAT_COMPLETIONS, BODY, REPLY, reported, estimator)
    counted = Usage(estimator.prompt_tokens(BODY), estimator.count("Hello, world!"))
    assert record.usage == counted
    assert record.estimated
    assert "no request can have" in caplog.text
    # And the event can be built (a count past int64 used to fail here, losing the event).
    event = build_usage_event(record, instance_id="proxy-1")
    assert event.usage.prompt_tokens == counted.prompt_tokens
    assert event.usage.estimated


async def test_impossible_stream_usage_is_counted_from_what_was_streamed(estimator: TokenEstimator) -> None:
    record = _record()
    await meter_stream(record, BODY, Usage(-1, 2**64 - 1), ["Hello, ", "world!"], estimator)
    assert record.usage == Usage(estimator.prompt_tokens(BODY), estimator.count("Hello, world!"))
    assert record.estimated


async def test_impossible_usage_of_an_image_counts_no_tokens_but_the_images(
    estimator: TokenEstimator,
) -> None:
    record = _record(Endpoint.IMAGES_GENERATIONS)
    body = orjson.dumps({"data": [{"url": "a"}, {"url": "b"}]})
    await meter_response(record, Endpoint.IMAGES_GENERATIONS, {}, body, Usage(-5, 0), estimator)
    assert record.usage is None
    assert record.images == 2


@pytest.mark.parametrize(
    ("seconds", "billed"),
    [
        (12.4, 12),
        (0, 0),
        (MAX_AUDIO_SECONDS, MAX_AUDIO_SECONDS),
        (-3, 0),
        (1e300, 0),
        (MAX_AUDIO_SECONDS + 1, 0),
    ],
)
async def test_transcription_seconds_outside_what_audio_can_last_count_as_none(
    estimator: TokenEstimator, seconds: float, billed: int
) -> None:
    record = _record(Endpoint.AUDIO_TRANSCRIPTIONS)
    body = orjson.dumps({"text": "hi", "usage": {"type": "duration", "seconds": seconds}})
    await meter_response(record, Endpoint.AUDIO_TRANSCRIPTIONS, {}, body, None, estimator)
    assert record.audio_seconds == billed
    assert build_usage_event(record, instance_id="proxy-1").usage.audio_seconds == billed
