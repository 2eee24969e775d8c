"""NATS outages: the service stays alive, reports not-ready, and recovers by itself."""

from __future__ import annotations

import asyncio
import time

import httpx
from gateway_proto.v1.health_pb2 import HEALTH_STATUS_HEALTHY


async def _wait_ready(http: httpx.AsyncClient, ready: bool, timeout: float = 20.0) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while True:
        response = await http.get("/readyz")
        if (response.status_code == 200) is ready:
            body: dict[str, object] = response.json()
            return body
        assert time.monotonic() < deadline, f"readyz stayed {response.status_code}: {response.text}"
        await asyncio.sleep(0.2)


def _restore_nats(stack) -> None:
    if "nats" in stack.dead_servers():
        stack.start_nats()


async def test_started_while_nats_is_down_then_recovers(
    stack, kv, start_health, snapshots, fake_openai
) -> None:
    stack.stop_nats()
    try:
        service = start_health()
        async with httpx.AsyncClient(base_url=service.base_url, timeout=5) as http:
            assert (await http.get("/healthz")).status_code == 200
            body = await _wait_ready(http, ready=False)
            assert body["failing"] == ["config_snapshot", "health_view", "nats"]
            assert "dependency NOT ready: nats" in service.proc.log_tail()

            stack.start_nats()
            await kv.nc.flush(timeout=15)  # the test's own client has reconnected too
            await kv.publish(snapshots.snapshot(1, [snapshots.provider("p-good", fake_openai)]))
            await _wait_ready(http, ready=True)
            await kv.wait_health("dep-good", lambda h: h.status == HEALTH_STATUS_HEALTHY)
    finally:
        _restore_nats(stack)


async def test_nats_restart_while_running_pauses_then_resumes_probing(
    stack, kv, start_health, snapshots, fake_openai
) -> None:
    await kv.publish(snapshots.snapshot(1, [snapshots.provider("p-good", fake_openai)]))
    service = start_health()
    async with httpx.AsyncClient(base_url=service.base_url, timeout=5) as http:
        await _wait_ready(http, ready=True)
        before = await kv.wait_health("dep-good", lambda h: h.status == HEALTH_STATUS_HEALTHY)
        stack.stop_nats()
        try:
            body = await _wait_ready(http, ready=False)
            assert "nats" in body["failing"]
        finally:
            _restore_nats(stack)
        await kv.nc.flush(timeout=15)
        await _wait_ready(http, ready=True)
        after = await kv.wait_health(
            "dep-good",
            lambda h: h.checked_at.ToDatetime() > before.checked_at.ToDatetime() and len(h.recent) == 5,
        )
        assert after.status == HEALTH_STATUS_HEALTHY
        assert service.proc.is_running()
