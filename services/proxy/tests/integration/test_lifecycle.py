"""Readiness, metrics, client disconnects and graceful shutdown of the proxy process."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # conftest is not importable at runtime under --import-mode=importlib
    from conftest import Harness


async def test_not_ready_without_a_snapshot_then_ready_when_one_arrives(harness: Harness) -> None:
    assert harness.process is not None
    harness.process.start()
    harness.process.wait_ready(timeout=60)
    key, _ = await harness.create_key()
    async with harness.http() as http:
        ready = await http.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["failing"] == ["config_snapshot"]
        refused = await http.post(
            "/v1/chat/completions",
            json={"model": "demo", "messages": [{"role": "user", "content": "hi"}]},
            headers={"authorization": f"Bearer {key}"},
        )
        assert refused.status_code == 503
        assert refused.json()["error"]["code"] == "no_config"

        await harness.publish_snapshot()
        await harness.wait_ready(timeout_s=10)
        served = await http.post(
            "/v1/chat/completions",
            json={"model": "demo", "messages": [{"role": "user", "content": "hi"}]},
            headers={"authorization": f"Bearer {key}"},
        )
        assert served.status_code == 200, served.text


async def test_client_disconnect_closes_the_upstream_and_is_recorded(running: Harness) -> None:
    key, _ = await running.create_key()
    async with running.http() as http:
        async with http.stream(
            "POST",
            "/v1/chat/completions",
            json={"model": "demo-slow", "messages": [{"role": "user", "content": "go"}], "stream": True},
            headers={"authorization": f"Bearer {key}"},
        ) as response:
            assert response.status_code == 200
            request_id = response.headers["x-request-id"]
            received = b""
            async for chunk in response.aiter_bytes():
                received += chunk
                if received.count(b"data:") >= 3:  # a few events of content, then hang up
                    break
        left_at = time.time()
    deadline = time.monotonic() + 5
    while True:
        (record,) = running.fake.requests("/v1/chat/completions")
        if record["closed_at"] is not None:
            break
        assert time.monotonic() < deadline, "upstream connection still open"
        await asyncio.sleep(0.02)
    assert record["outcome"] == "disconnected"
    assert float(record["closed_at"]) - left_at < 0.5  # type: ignore[arg-type]
    event, _ = await running.usage_event(request_id)
    assert event.client_disconnected
    assert event.stream
    # Billed: the prompt plus what was streamed before the client left, counted by the gateway.
    assert event.usage.estimated
    assert event.usage.prompt_tokens > 0
    assert event.usage.completion_tokens > 0


async def test_metrics_count_requests_by_route_model_and_status(running: Harness) -> None:
    key, _ = await running.create_key()
    await running.client(key).chat.completions.create(
        model="demo", messages=[{"role": "user", "content": "m"}]
    )
    async with running.http() as http:
        text = (await http.get("/metrics")).text
    assert 'gateway_proxy_requests_total{model="demo",route="/v1/chat/completions",status="200"}' in text
    assert "gateway_proxy_overhead_seconds_bucket" in text
    assert 'gateway_proxy_upstream_duration_seconds_count{provider="openai"}' in text
    assert "process_resident_memory_bytes" in text


async def test_sigterm_flushes_usage_and_exits_cleanly(harness: Harness) -> None:
    await harness.publish_snapshot()
    assert harness.process is not None
    harness.process.start()
    harness.process.wait_ready(timeout=60)
    await harness.wait_ready()
    key, _ = await harness.create_key()
    async with harness.http() as http:
        response = await http.post(
            "/v1/chat/completions",
            json={"model": "demo", "messages": [{"role": "user", "content": "bye"}]},
            headers={"authorization": f"Bearer {key}"},
        )
    request_id = response.headers["x-request-id"]
    code = harness.process.stop(timeout=20)
    assert code == 0, harness.process.log_path.read_text()[-4000:]
    await harness.usage_event(request_id)
    log = harness.process.log_path.read_text()
    assert "proxy stopped" in log
    assert "Traceback" not in log
