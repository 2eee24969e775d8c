"""The failover loop against upstreams that speak OpenAI's wire format (answered in-process).

Each provider is a host: `ok.test` answers, `down.test` answers 503, `small.test` refuses the
prompt as too long for its context window. The integration tests do the same through real
sockets and the fake; these pin the loop's decisions one by one.
"""

from __future__ import annotations

import base64
import os
import random
from typing import cast

import httpx
import orjson
import pytest
from gateway_common.sealing import DataPlaneKeys
from gateway_proto.v1.config_pb2 import ConfigSnapshot, Deployment, Model, Provider, Route
from gateway_proto.v1.keys_pb2 import KeyRecord
from gateway_proto.v1.pricing_pb2 import ModelPricing
from gateway_proto.v1.usage_pb2 import UsageEvent
from gateway_providers import Endpoint, UpstreamRequest
from gateway_proxy.auth import Principal
from gateway_proxy.breaker import BreakerPolicy, CircuitBreakers
from gateway_proxy.context import RequestContext
from gateway_proxy.deployment_stats import DeploymentStats
from gateway_proxy.errors import GatewayError
from gateway_proxy.forwarder import Forwarder, ForwardJob
from gateway_proxy.metrics import ProxyMetrics
from gateway_proxy.router import RetryPolicy, Router
from gateway_proxy.runtime import RuntimeConfig, Timeouts, build_runtime_config
from gateway_proxy.upstream import SendOptions
from gateway_proxy.usage_publisher import UsagePublisher

KEYS = DataPlaneKeys.from_base64("dp1", base64.b64encode(os.urandom(32)).decode())
DEFAULTS = Timeouts(sync_s=30, stream_idle_s=5, total_s=30, upstream_s=5, connect_s=1)
PRICE = ModelPricing(input_micro_usd_per_mtok=1, output_micro_usd_per_mtok=2, priced=True)
BIG_PRICE = ModelPricing(input_micro_usd_per_mtok=10, output_micro_usd_per_mtok=20, priced=True)


def completion(model: str) -> bytes:
    return orjson.dumps(
        {
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "created": 1,
            "model": model,
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}
            ],
            "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4},
        }
    )


def error(status: int, code: str, message: str) -> httpx.Response:
    body = {"error": {"message": message, "type": "invalid_request_error", "param": None, "code": code}}
    return httpx.Response(status, json=body)


def upstream(request: httpx.Request) -> httpx.Response:
    host = request.url.host
    if host == "down.test":
        return error(503, "overloaded", "overloaded")
    if host == "small.test":
        return error(400, "context_length_exceeded", "This model's maximum context length is 8 tokens.")
    if host == "bad.test":
        return error(400, "invalid_value", "temperature must be at most 2")
    return httpx.Response(200, content=completion(orjson.loads(request.content)["model"]))


def snapshot(routes: dict[str, list[str]], fallbacks: dict[str, list[str]] | None = None) -> ConfigSnapshot:
    """Models named like their route; deployment `host` is served by provider `host`."""
    hosts = sorted({h for hs in routes.values() for h in hs})
    snap = ConfigSnapshot(revision=3, schema_version=1)
    for host in hosts:
        snap.providers.append(
            Provider(
                id=host,
                name=host,
                type="openai",
                base_url=f"http://{host}/v1",
                credentials=KEYS.seal({"api_key": "sk"}, aad=host),
            )
        )
    for model, model_hosts in routes.items():
        price = BIG_PRICE if model == "big" else PRICE
        snap.models.append(Model(id=model, name=model, pricing=price))
        dep_ids = []
        for priority, host in enumerate(model_hosts):
            dep_id = f"{model}@{host}"
            dep_ids.append(dep_id)
            snap.deployments.append(
                Deployment(
                    id=dep_id,
                    model_id=model,
                    provider_id=host,
                    upstream_model=f"up-{model}",
                    priority=priority,
                    weight=1,
                )
            )
        snap.routes.append(
            Route(
                id=model,
                model_id=model,
                deployment_ids=dep_ids,
                fallback_models=(fallbacks or {}).get(model, []),
            )
        )
    return snap


class InProcessUpstream:
    """The forwarder's upstream, answered by `upstream(request)` without sockets."""

    def __init__(self) -> None:
        self._transport = httpx.MockTransport(upstream)

    async def send(self, request: UpstreamRequest, options: SendOptions) -> httpx.Response:
        sent = httpx.Request(request.method, request.url, headers=request.headers, content=request.body)
        return await self._transport.handle_async_request(sent)

    async def aclose(self) -> None:
        return None


class Collector:
    def __init__(self) -> None:
        self.events: list[UsageEvent] = []

    def submit(self, event: UsageEvent) -> None:
        self.events.append(event)


def forwarder(retry: RetryPolicy | None = None) -> tuple[Forwarder, Collector, CircuitBreakers]:
    collector = Collector()
    breakers = CircuitBreakers(BreakerPolicy(consecutive_failures=2, cooldown_s=60))
    router = Router(
        breakers, DeploymentStats(), rng=random.Random(1), retry=retry or RetryPolicy(backoff_s=0.0)
    )
    made = Forwarder(
        InProcessUpstream(), cast(UsagePublisher, collector), ProxyMetrics(), router, instance_id="t"
    )
    return made, collector, breakers


def job(config: RuntimeConfig, model: str, principal: Principal | None = None) -> ForwardJob:
    runtime = config.model(model)
    assert runtime is not None
    return ForwardJob(
        endpoint=Endpoint.CHAT_COMPLETIONS,
        principal=principal or Principal.from_record(KeyRecord(key_id="k", tenant_id="t")),
        config=config,
        model=runtime,
        body={"model": model, "messages": [{"role": "user", "content": "hello"}]},
        stream=False,
        include_usage=False,
    )


def build(routes: dict[str, list[str]], fallbacks: dict[str, list[str]] | None = None) -> RuntimeConfig:
    return build_runtime_config(snapshot(routes, fallbacks), KEYS, DEFAULTS)


async def test_a_failing_deployment_is_hidden_and_every_attempt_recorded() -> None:
    fwd, collector, _ = forwarder()
    config = build({"m": ["down.test", "ok.test"]})
    response = await fwd.forward(job(config, "m"), RequestContext("r1"))
    assert response.status_code == 200
    (event,) = collector.events
    assert [(a.deployment_id, a.status_code) for a in event.attempts] == [
        ("m@down.test", 503),
        ("m@ok.test", 200),
    ]
    assert event.deployment_id == "m@ok.test"


async def test_context_window_errors_fall_back_to_the_next_model_billed_at_its_price() -> None:
    fwd, collector, _ = forwarder()
    config = build({"small": ["small.test"], "big": ["ok.test"]}, fallbacks={"small": ["big"]})
    response = await fwd.forward(job(config, "small"), RequestContext("r2"))
    assert response.status_code == 200
    assert orjson.loads(bytes(response.body))["model"] == "up-big"
    (event,) = collector.events
    assert event.model == "big"
    assert event.pricing.input_micro_usd_per_mtok == BIG_PRICE.input_micro_usd_per_mtok
    # The context error is not the deployment's fault: it is not re-tried on the same model.
    assert [a.deployment_id for a in event.attempts] == ["small@small.test", "big@ok.test"]


async def test_a_fallback_model_the_key_may_not_use_is_skipped() -> None:
    fwd, _, _ = forwarder()
    config = build({"small": ["small.test"], "big": ["ok.test"]}, fallbacks={"small": ["big"]})
    only_small = Principal.from_record(KeyRecord(key_id="k", tenant_id="t", allowed_models=["small"]))
    with pytest.raises(GatewayError) as raised:
        await fwd.forward(job(config, "small", only_small), RequestContext("r3"))
    assert raised.value.status == 400
    assert raised.value.code == "context_length_exceeded"


async def test_a_client_error_is_answered_at_once_without_failover() -> None:
    fwd, collector, breakers = forwarder()
    config = build({"m": ["bad.test", "ok.test"]})
    with pytest.raises(GatewayError) as raised:
        await fwd.forward(job(config, "m"), RequestContext("r4"))
    assert raised.value.status == 400
    (event,) = collector.events
    assert [a.deployment_id for a in event.attempts] == ["m@bad.test"]
    assert event.status_code == 400
    assert not breakers.is_open("m@bad.test")


async def test_an_open_breaker_skips_the_deployment_and_the_attempt_limit_holds() -> None:
    fwd, collector, breakers = forwarder(RetryPolicy(max_attempts=3, backoff_s=0.0))
    config = build({"m": ["down.test", "ok.test"]})
    for n in range(2):
        await fwd.forward(job(config, "m"), RequestContext(f"warm{n}"))
    assert breakers.is_open("m@down.test")
    collector.events.clear()
    await fwd.forward(job(config, "m"), RequestContext("r5"))
    assert [a.deployment_id for a in collector.events[0].attempts] == ["m@ok.test"]
    only_down = build({"m": ["down.test"]})
    with pytest.raises(GatewayError) as raised:
        await fwd.forward(job(only_down, "m"), RequestContext("r6"))
    assert raised.value.status == 503
    # Open, but the only deployment: tried as the last resort, then re-tried within the limit.
    assert 1 <= len(collector.events[-1].attempts) <= 3
