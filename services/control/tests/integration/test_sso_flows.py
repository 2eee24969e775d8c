"""Pending SSO sign-ins in the real Redis: taken at most once, expiring, only a digest of the state stored."""

from __future__ import annotations

import pytest
import redis.asyncio as aioredis
from gateway_control.oidc.errors import OidcError
from gateway_control.oidc.flows import FlowStore, PendingFlow
from gateway_devstack.procs import free_port

FLOW = PendingFlow(provider="corp", nonce="nonce-1", code_verifier="verifier-1")


async def test_a_flow_is_taken_once_and_expires(redis_url: str) -> None:
    client = aioredis.Redis.from_url(redis_url)
    try:
        store = FlowStore(client, ttl_s=120)
        await store.put("state-1", FLOW)
        [key] = await client.keys("gw:sso:flow:*")
        assert b"state-1" not in key
        assert 0 < await client.ttl(key) <= 120
        assert await store.take("state-2") is None
        assert await store.take("state-1") == FLOW
        assert await store.take("state-1") is None
    finally:
        await client.aclose()


async def test_redis_down_is_a_clear_sso_error() -> None:
    client = aioredis.Redis.from_url(f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=1)
    try:
        store = FlowStore(client, ttl_s=120)
        with pytest.raises(OidcError) as put:
            await store.put("state-1", FLOW)
        assert put.value.reason == "service_unavailable"
        with pytest.raises(OidcError) as take:
            await store.take("state-1")
        assert take.value.reason == "service_unavailable"
    finally:
        await client.aclose()
