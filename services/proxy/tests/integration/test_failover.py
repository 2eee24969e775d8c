"""Failover through real faults: one route, five broken deployments and one healthy one.

The broken deployments refuse connections, hang, answer 429 with Retry-After, answer 500, or
cut the stream after its opening chunk. Each is a provider of its own whose `header.x-fake-*`
settings make the fake misbehave; the healthy one says who it is in its reply
(`x-fake-content`), so the tests see which deployment served every request.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator, Mapping
from pathlib import Path

import httpx
import orjson
import pytest
from gateway_common.names import HEALTH_BUCKET
from gateway_common.nats import ensure_bucket
from gateway_devstack.procs import free_port
from gateway_fakes.process import FakeProcess
from gateway_proto.v1.config_pb2 import ConfigSnapshot, Deployment, Model, Provider, Route, RoutingStrategy
from gateway_proto.v1.config_pb2 import Timeouts as TimeoutsProto
from gateway_proto.v1.health_pb2 import DeploymentHealth, HealthStatus

from .conftest import PRICING, Harness, open_harness, start_and_wait

CHAT = "/v1/chat/completions"
HEALTHY = "served-by-healthy"
# deployment id -> the provider's fake headers ("refused" points at a port nobody listens on).
BROKEN: Mapping[str, Mapping[str, str]] = {
    "refused": {},
    "hang": {"x-fake-hang": "1"},
    "limited": {"x-fake-status": "429", "x-fake-retry-after": "1"},
    "failing": {"x-fake-status": "500"},
    # Cuts streams after their opening chunk; a sync call it answers well.
    "dropping": {"x-fake-drop-after": "1", "x-fake-stream-chunks": "3", "x-fake-content": "dropping"},
}
TIMEOUTS = TimeoutsProto(upstream_ms=400, stream_idle_ms=400, sync_ms=20_000, total_ms=20_000)


def routed_snapshot(
    h: Harness,
    deployments: Mapping[str, Mapping[str, str]],
    *,
    strategy: int = RoutingStrategy.ROUTING_STRATEGY_WEIGHTED,
    refused_url: str = "",
) -> ConfigSnapshot:
    """One model `ha` routed over `deployments` (id -> fake headers), one provider each."""
    h.revision += 1
    snapshot = ConfigSnapshot(revision=h.revision, schema_version=1)
    snapshot.created_at.GetCurrentTime()
    snapshot.models.append(
        Model(id="model-ha", name="ha", owned_by="test", created_unix=1, pricing=PRICING, timeouts=TIMEOUTS)
    )
    for dep_id, headers in deployments.items():
        provider_id = f"prov-{dep_id}"
        base_url = refused_url if dep_id == "refused" else h.fake.base_url
        snapshot.providers.append(
            Provider(
                id=provider_id,
                name=f"fake-{dep_id}",
                type="openai",
                base_url=base_url,
                settings={f"header.{k}": v for k, v in headers.items()},
                credentials=h.keys.seal({"api_key": h.fake.api_key}, aad=provider_id),
            )
        )
        snapshot.deployments.append(
            Deployment(
                id=dep_id,
                model_id="model-ha",
                provider_id=provider_id,
                upstream_model="gpt-4o-mini",
                weight=1,
                priority=1,
            )
        )
    snapshot.routes.append(
        Route(id="route-ha", model_id="model-ha", strategy=strategy, deployment_ids=list(deployments))
    )
    return snapshot


@pytest.fixture
async def proxy(
    redis_url: str, nats_url: str, fake_openai: FakeProcess, tmp_path: Path
) -> AsyncIterator[Harness]:
    async with open_harness(redis_url, nats_url, fake_openai, tmp_path) as h:
        yield h


async def chat(http: httpx.AsyncClient, key: str, *, stream: bool) -> tuple[int, str]:
    """One chat request; (status, the assistant's text) — for a stream, the joined deltas."""
    body = {"model": "ha", "messages": [{"role": "user", "content": "hi"}], "stream": stream}
    headers = {"authorization": f"Bearer {key}"}
    if not stream:
        response = await http.post(CHAT, json=body, headers=headers)
        if response.status_code != 200:
            return response.status_code, response.text
        return 200, str(response.json()["choices"][0]["message"]["content"])
    async with http.stream("POST", CHAT, json=body, headers=headers) as response:
        if response.status_code != 200:
            return response.status_code, (await response.aread()).decode()
        text: list[str] = []
        async for line in response.aiter_lines():
            if line.startswith("data: {"):
                event = orjson.loads(line[len("data: ") :])
                if "error" in event:
                    return 599, line  # a 200 followed by an error: what failover must prevent
                for choice in event.get("choices", []):
                    text.append(choice.get("delta", {}).get("content") or "")
        return 200, "".join(text)


async def test_a_thousand_requests_see_no_failure_while_one_deployment_is_healthy(proxy: Harness) -> None:
    deployments = {**BROKEN, "healthy": {"x-fake-content": HEALTHY}}
    await proxy.publish_snapshot(
        routed_snapshot(proxy, deployments, refused_url=f"http://127.0.0.1:{free_port()}")
    )
    await start_and_wait(proxy)
    key, _ = await proxy.create_key()
    outcomes: Counter[tuple[int, bool]] = Counter()
    gate = asyncio.Semaphore(16)
    async with httpx.AsyncClient(base_url=proxy.base_url, timeout=60, trust_env=False) as http:

        async def one(index: int) -> None:
            stream = index % 2 == 0
            async with gate:
                status, text = await chat(http, key, stream=stream)
            served_well = text == HEALTHY or (text == "dropping" and not stream)
            outcomes[(status, served_well)] += 1

        await asyncio.gather(*(one(i) for i in range(1000)))
    assert outcomes == Counter({(200, True): 1000}), outcomes
    # Every broken deployment was really tried (the faults ran) and the breakers opened.
    seen = [dict(record["headers"]) for record in proxy.fake.requests(CHAT)]
    assert {h.get("x-fake-status") for h in seen} >= {"429", "500"}
    assert any("x-fake-hang" in h for h in seen)
    assert any("x-fake-drop-after" in h for h in seen)
    async with proxy.http() as http:
        metrics = (await http.get("/metrics")).text
    assert 'gateway_proxy_breaker_transitions_total{state="open"}' in metrics


async def test_usage_event_lists_every_attempt(proxy: Harness) -> None:
    deployments = {"failing": BROKEN["failing"], "healthy": {"x-fake-content": HEALTHY}}
    snapshot = routed_snapshot(proxy, deployments, strategy=RoutingStrategy.ROUTING_STRATEGY_WEIGHTED)
    for dep in snapshot.deployments:  # the failing one first, by priority
        dep.priority = 0 if dep.id == "failing" else 1
    await proxy.publish_snapshot(snapshot)
    await start_and_wait(proxy)
    key, _ = await proxy.create_key()
    async with httpx.AsyncClient(base_url=proxy.base_url, timeout=30, trust_env=False) as http:
        response = await http.post(
            CHAT,
            json={"model": "ha", "messages": [{"role": "user", "content": "hi"}]},
            headers={"authorization": f"Bearer {key}"},
        )
    assert response.status_code == 200
    event, _ = await proxy.usage_event(response.headers["x-request-id"])
    assert [(a.deployment_id, a.status_code) for a in event.attempts] == [("failing", 500), ("healthy", 200)]
    assert event.attempts[0].error_code
    assert event.deployment_id == "healthy"
    assert event.status_code == 200
    assert event.usage.completion_tokens > 0


async def test_a_deployment_marked_unhealthy_gets_no_traffic_within_a_second(proxy: Harness) -> None:
    deployments = {"a": {"x-fake-content": "a"}, "b": {"x-fake-content": "b"}}
    await proxy.publish_snapshot(routed_snapshot(proxy, deployments))
    await start_and_wait(proxy)
    key, _ = await proxy.create_key()
    js = proxy.nc.jetstream()
    await ensure_bucket(js, HEALTH_BUCKET)
    kv = await js.key_value(HEALTH_BUCKET)
    async with httpx.AsyncClient(base_url=proxy.base_url, timeout=30, trust_env=False) as http:
        before = Counter([(await chat(http, key, stream=False))[1] for _ in range(40)])
        assert before["a"] > 0
        assert before["b"] > 0
        down = DeploymentHealth(deployment_id="a", status=HealthStatus.HEALTH_STATUS_UNHEALTHY)
        await kv.put("a", down.SerializeToString())
        await asyncio.sleep(1.0)
        during = Counter([(await chat(http, key, stream=False))[1] for _ in range(40)])
        assert during == Counter({"b": 40})
        up = DeploymentHealth(deployment_id="a", status=HealthStatus.HEALTH_STATUS_HEALTHY)
        await kv.put("a", up.SerializeToString())
        await asyncio.sleep(1.0)
        after = Counter([(await chat(http, key, stream=False))[1] for _ in range(40)])
        assert after["a"] > 0


async def test_an_unhealthy_deployment_is_still_the_last_resort(proxy: Harness) -> None:
    deployments = {"only": {"x-fake-content": "only"}}
    await proxy.publish_snapshot(routed_snapshot(proxy, deployments))
    await start_and_wait(proxy)
    key, _ = await proxy.create_key()
    js = proxy.nc.jetstream()
    await ensure_bucket(js, HEALTH_BUCKET)
    kv = await js.key_value(HEALTH_BUCKET)
    down = DeploymentHealth(deployment_id="only", status=HealthStatus.HEALTH_STATUS_UNHEALTHY)
    await kv.put("only", down.SerializeToString())
    await asyncio.sleep(1.0)
    async with httpx.AsyncClient(base_url=proxy.base_url, timeout=30, trust_env=False) as http:
        assert await chat(http, key, stream=False) == (200, "only")


async def test_lowest_latency_moves_traffic_to_the_faster_deployment(proxy: Harness) -> None:
    deployments = {
        "slow": {"x-fake-content": "slow", "x-fake-delay-ms": "300"},
        "fast": {"x-fake-content": "fast"},
    }
    strategy = RoutingStrategy.ROUTING_STRATEGY_LOWEST_LATENCY
    await proxy.publish_snapshot(routed_snapshot(proxy, deployments, strategy=strategy))
    await start_and_wait(proxy)
    key, _ = await proxy.create_key()
    served: list[str] = []
    async with httpx.AsyncClient(base_url=proxy.base_url, timeout=30, trust_env=False) as http:
        for _ in range(60):
            served.append((await chat(http, key, stream=True))[1])
    late = Counter(served[20:])
    # Explore sends ~5 % at random (half of it to the slow one); everything else goes fast.
    assert late["fast"] >= 34, Counter(served)


async def test_a_second_try_of_a_deployment_waits_for_its_retry_after(proxy: Harness) -> None:
    deployments = {"limited": {"x-fake-status": "429", "x-fake-retry-after": "1"}}
    await proxy.publish_snapshot(routed_snapshot(proxy, deployments))
    await start_and_wait(proxy)
    key, _ = await proxy.create_key()
    proxy.fake.clear()
    async with httpx.AsyncClient(base_url=proxy.base_url, timeout=30, trust_env=False) as http:
        started = time.monotonic()
        status, _ = await chat(http, key, stream=False)
        elapsed = time.monotonic() - started
    assert status == 429
    assert len(proxy.fake.requests(CHAT)) == 2  # the first try, and one after Retry-After
    assert elapsed >= 1.0
