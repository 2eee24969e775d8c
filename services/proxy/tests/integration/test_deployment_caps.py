"""Per-deployment RPM/TPM caps, counted in real Valkey across callers."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis
from gateway_providers import DeploymentTarget, ProviderConfig, get_adapter
from gateway_proxy.deployment_caps import DeploymentCaps
from gateway_proxy.runtime import DeploymentRuntime, ProviderRuntime

CONFIG = ProviderConfig(provider_type="openai", base_url="http://x")
PROVIDER = ProviderRuntime("p", "p", "openai", get_adapter("openai"), CONFIG)


def dep(dep_id: str, rpm: int = 0, tpm: int = 0) -> DeploymentRuntime:
    return DeploymentRuntime(
        dep_id, "m", "u", 1, 0, PROVIDER, DeploymentTarget("u", CONFIG), rpm_limit=rpm, tpm_limit=tpm
    )


class Clock:
    now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(redis_url)
    yield client
    await client.aclose()


async def test_rpm_cap_admits_exactly_the_limit_per_minute(redis: aioredis.Redis) -> None:
    clock = Clock()
    caps = DeploymentCaps(redis, timeout_s=1.0, clock=clock)
    other = DeploymentCaps(redis, timeout_s=1.0, clock=clock)  # a second replica shares the count
    capped = dep("rpm-capped", rpm=5)
    results = [await (caps if i % 2 else other).take(capped, 10) for i in range(8)]
    assert results == [True] * 5 + [False] * 3
    clock.now += 60
    assert await caps.take(capped, 10)


async def test_tpm_cap_counts_estimated_tokens_and_admits_one_oversized_request(
    redis: aioredis.Redis,
) -> None:
    clock = Clock()
    caps = DeploymentCaps(redis, timeout_s=1.0, clock=clock)
    capped = dep("tpm-capped", tpm=1000)
    assert await caps.take(capped, 600)
    assert await caps.take(capped, 400)
    assert not await caps.take(capped, 1)
    huge = dep("tpm-huge", tpm=1000)
    assert await caps.take(huge, 5000)  # alone in an empty window: served
    assert not await caps.take(huge, 1)


async def test_an_uncapped_deployment_never_touches_redis(redis: aioredis.Redis) -> None:
    caps = DeploymentCaps(redis, timeout_s=1.0)
    assert await caps.take(dep("free"), 10**9)
    assert [k async for k in redis.scan_iter(match="gw:dcap:free:*")] == []


async def test_an_unreachable_redis_fails_open() -> None:
    dead = aioredis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.05)
    try:
        assert await DeploymentCaps(dead, timeout_s=0.2).take(dep("capped", rpm=1), 1)
    finally:
        await dead.aclose()
