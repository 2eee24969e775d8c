"""The proxy with Redis or NATS down: it starts, says why it is not ready, and recovers alone.

These tests stop and restart the session's servers, so each ends with them running again.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from gateway_devstack.base import Stack

if TYPE_CHECKING:  # conftest is not importable at runtime under --import-mode=importlib
    from conftest import Harness

CHAT = {"model": "demo", "messages": [{"role": "user", "content": "still there?"}]}


@pytest.fixture
def restore_servers(stack: Stack) -> Iterator[Stack]:
    """Make sure Redis and NATS run again after the test, whatever it did."""
    yield stack
    for name, start in (("redis", stack.start_redis), ("nats", stack.start_nats)):
        if name in stack.dead_servers():
            start()


async def readyz(h: Harness) -> tuple[int, list[str]]:
    """Status and the dependencies that fail or are degraded (either way: not reachable now)."""
    async with h.http() as http:
        response = await http.get("/readyz")
    body = response.json()
    failing: list[str] = body["failing"] + body["degraded"]
    return response.status_code, failing


async def wait_for(h: Harness, predicate: object, timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        status, failing = await readyz(h)
        if callable(predicate) and predicate(status, failing):
            return
        assert time.monotonic() < deadline, f"readyz stayed {status} {failing}\n{h.log_tail()}"
        await asyncio.sleep(0.1)


async def test_started_while_nats_is_down_then_recovers(harness: Harness, restore_servers: Stack) -> None:
    await harness.publish_snapshot()  # waiting in KV for when the proxy can reach NATS
    restore_servers.stop_nats()
    assert harness.process is not None
    harness.process.start()
    harness.process.wait_ready(timeout=60)
    status, failing = await readyz(harness)
    assert status == 503
    assert "nats" in failing
    assert "config_snapshot" in failing
    restore_servers.start_nats()
    await wait_for(harness, lambda status, failing: status == 200)
    assert "dependency NOT ready: nats" in harness.process.log_path.read_text()


async def test_redis_outage_keeps_cached_keys_working_and_recovers(
    harness: Harness, restore_servers: Stack
) -> None:
    await harness.publish_snapshot()
    assert harness.process is not None
    harness.process.start()
    harness.process.wait_ready(timeout=60)
    await harness.wait_ready()
    cached, _ = await harness.create_key()
    uncached, _ = await harness.create_key()
    async with harness.http() as http:
        assert (
            await http.post("/v1/chat/completions", json=CHAT, headers={"x-api-key": cached})
        ).status_code == 200

        restore_servers.stop_redis()
        # Once ready, a Redis outage degrades the proxy but keeps it in its Service.
        await wait_for(harness, lambda status, failing: status == 200 and failing == ["redis"])
        still = await http.post("/v1/chat/completions", json=CHAT, headers={"x-api-key": cached})
        assert still.status_code == 200, still.text
        refused = await http.post("/v1/chat/completions", json=CHAT, headers={"x-api-key": uncached})
        assert refused.status_code == 503
        assert refused.json()["error"]["code"] == "key_store_unavailable"

        restore_servers.start_redis()  # it comes back empty, as a restarted Valkey does
        await wait_for(harness, lambda status, failing: status == 200 and failing == [])


async def test_usage_is_kept_while_nats_is_down_and_published_after(
    harness: Harness, restore_servers: Stack
) -> None:
    await harness.publish_snapshot()
    assert harness.process is not None
    harness.process.start()
    harness.process.wait_ready(timeout=60)
    await harness.wait_ready()
    key, _ = await harness.create_key()
    restore_servers.stop_nats()
    async with harness.http() as http:
        served = await http.post("/v1/chat/completions", json=CHAT, headers={"x-api-key": key})
    assert served.status_code == 200, served.text  # snapshot in memory, key from Redis
    restore_servers.start_nats()
    event, _ = await harness.usage_event(served.headers["x-request-id"], timeout_s=20)
    assert event.status_code == 200
