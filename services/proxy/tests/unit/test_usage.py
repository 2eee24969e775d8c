"""Usage events: built from what the request did; queued off the response path, bounded."""

from __future__ import annotations

import time

from gateway_common.nats import NatsConnection
from gateway_proto.v1.keys_pb2 import KeyRecord
from gateway_proto.v1.pricing_pb2 import ModelPricing
from gateway_proto.v1.usage_pb2 import UsageEvent
from gateway_providers import DeploymentTarget, Endpoint, ProviderConfig, Usage, get_adapter
from gateway_proxy.auth import Principal
from gateway_proxy.metrics import ProxyMetrics
from gateway_proxy.runtime import DeploymentRuntime, ProviderRuntime
from gateway_proxy.usage import UsageRecord, build_usage_event, endpoint_name
from gateway_proxy.usage_publisher import UsagePublisher

CONFIG = ProviderConfig(provider_type="openai", base_url="http://x")
DEPLOYMENT = DeploymentRuntime(
    "dep-1", "m1", "gpt-up", 1, 0, ProviderRuntime("p1", "main", "openai", get_adapter("openai"), CONFIG),
    DeploymentTarget("gpt-up", CONFIG),
)  # fmt: skip
PRICING = ModelPricing(input_micro_usd_per_mtok=1, output_micro_usd_per_mtok=2, priced=True)


def record() -> UsageRecord:
    principal = Principal.from_record(KeyRecord(key_id="k1", tenant_id="t1", user_id="u1"))
    return UsageRecord(
        request_id="req-1",
        endpoint=Endpoint.CHAT_COMPLETIONS,
        principal=principal,
        model="chat",
        pricing=PRICING,
        pricing_revision=42,
        stream=True,
        started_unix=1_800_000_000.0,
        started=time.perf_counter() - 0.25,
    )


def test_endpoint_names_use_the_dotted_spelling() -> None:
    assert endpoint_name(Endpoint.CHAT_COMPLETIONS) == "chat.completions"
    assert endpoint_name(Endpoint.AUDIO_TRANSCRIPTIONS) == "audio.transcriptions"
    assert endpoint_name(Endpoint.EMBEDDINGS) == "embeddings"


def test_event_carries_ids_tokens_pricing_and_timing() -> None:
    rec = record()
    rec.add_attempt(DEPLOYMENT, 200, "", 0.2)
    rec.status_code = 200
    rec.usage = Usage(prompt_tokens=11, completion_tokens=7, cached_prompt_tokens=3, reasoning_tokens=2)
    rec.time_to_first_token_s = 0.05
    rec.client_disconnected = True
    event = build_usage_event(rec, instance_id="proxy-a", finished=rec.started + 0.25)
    assert (event.request_id, event.tenant_id, event.key_id, event.user_id) == ("req-1", "t1", "k1", "u1")
    assert (event.model, event.endpoint, event.stream) == ("chat", "chat.completions", True)
    assert (event.deployment_id, event.provider, event.provider_model) == ("dep-1", "openai", "gpt-up")
    assert event.usage.prompt_tokens == 11
    assert event.usage.completion_tokens == 7
    assert event.usage.cached_prompt_tokens == 3
    assert event.usage.reasoning_tokens == 2
    assert event.pricing == PRICING
    assert event.pricing_revision == 42
    assert event.duration_us == 250_000
    assert event.time_to_first_token_us == 50_000
    assert event.client_disconnected
    assert event.proxy_instance == "proxy-a"
    assert event.started_at.ToNanoseconds() == 1_800_000_000 * 10**9
    assert event.finished_at.ToNanoseconds() - event.started_at.ToNanoseconds() == 250_000_000
    assert len(event.attempts) == 1
    assert event.attempts[0].duration_us == 200_000


def test_an_event_without_provider_usage_has_zero_tokens() -> None:
    event = build_usage_event(record(), instance_id="x")
    assert event.usage.prompt_tokens == 0
    assert event.deployment_id == ""


async def test_full_queue_drops_and_close_reports_what_was_not_published() -> None:
    # A NATS connection that was never started: the publisher must keep, not lose, events.
    nats = NatsConnection("nats://127.0.0.1:1", "unit-test")
    metrics = ProxyMetrics()
    publisher = UsagePublisher(nats, metrics, queue_size=2, publish_timeout_s=0.1, concurrency=4)
    publisher.start()
    for i in range(3):
        publisher.submit(UsageEvent(request_id=f"r{i}"))
    assert metrics.usage_events.labels("dropped")._value.get() == 1
    assert publisher.pending == 2
    lost = await publisher.close(timeout_s=0.3)
    assert lost == 2
