"""Shared rate limits across two proxy processes, and parallel-slot leases that outlive no proxy.

Both proxies share the harness's settings (pepper, data-plane key, Redis, NATS); limits come
from the KeyRecord's `key_limits`, as control writes them.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
from gateway_devstack.procs import ManagedProcess, child_pids, free_port
from gateway_proto.v1.config_pb2 import ConfigSnapshot, RateLimits

if TYPE_CHECKING:  # conftest is not importable at runtime under --import-mode=importlib
    from conftest import Harness

CHAT = "/v1/chat/completions"


def second_proxy(h: Harness, workdir: Path, name: str = "proxy-2") -> tuple[ManagedProcess, str]:
    """An unstarted proxy with the same settings as the harness's, on another port."""
    assert h.process is not None
    port = free_port()
    env = {**h.process.env, "PROXY_PORT": str(port), "INSTANCE_ID": name}
    process = ManagedProcess(
        name,
        h.process.argv,
        env,
        cwd=workdir,
        log_path=workdir / f"{name}.log",
        ready_url=f"http://127.0.0.1:{port}/healthz",
    )
    return process, f"http://127.0.0.1:{port}"


async def wait_ready(base_url: str, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    async with httpx.AsyncClient(base_url=base_url, timeout=5, trust_env=False) as http:
        while time.monotonic() < deadline:
            try:
                if (await http.get("/readyz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.05)
    raise AssertionError(f"{base_url} not ready within {timeout_s}s")


def kill_hard(process: ManagedProcess) -> None:
    """SIGKILL the proxy and its Granian workers at once: no lifespan shutdown, no releases."""
    pid = process.pid
    assert pid is not None
    for child in child_pids(pid):
        os.kill(child, signal.SIGKILL)
    os.kill(pid, signal.SIGKILL)
    process.stop(timeout=5)


def chat(model: str = "demo", content: str = "hi") -> dict[str, object]:
    return {"model": model, "messages": [{"role": "user", "content": content}]}


def with_slow_model(h: Harness, delay_ms: int) -> ConfigSnapshot:
    """The standard snapshot, with `demo-sync-timeout` turned into a call that takes `delay_ms`."""
    snapshot = h.snapshot()
    model = next(m for m in snapshot.models if m.name == "demo-sync-timeout")
    model.ClearField("timeouts")
    provider = next(p for p in snapshot.providers if p.name == "fake-demo-sync-timeout")
    provider.settings["header.x-fake-delay-ms"] = str(delay_ms)
    return snapshot


async def start_two(
    h: Harness, workdir: Path, snapshot: ConfigSnapshot, **env: str
) -> tuple[ManagedProcess, str]:
    """Start the harness's proxy and a second one (same settings plus `env`), both ready."""
    assert h.process is not None
    h.process.env.update(env)
    await h.publish_snapshot(snapshot)
    other, other_url = second_proxy(h, workdir)
    h.process.start()
    other.start()
    try:
        h.process.wait_ready(timeout=60)
        other.wait_ready(timeout=60)
        await h.wait_ready(timeout_s=30)
        await wait_ready(other_url)
    except BaseException:
        other.stop()
        raise
    return other, other_url


async def test_two_proxies_admit_exactly_the_shared_rpm(harness: Harness, tmp_path: Path) -> None:
    # The default Redis timeout (50 ms): on this shared 2-core host 40 requests in flight keep the
    # proxies waiting for a CPU well past 50 ms, which must not count as Redis being silent
    # (reply_deadline.py); a request decided locally would break the exact count.
    other, other_url = await start_two(harness, tmp_path, harness.snapshot())
    try:
        key, _ = await harness.create_key(key_limits=RateLimits(rpm=100))
        statuses: Counter[int] = Counter()
        retry_after: list[str | None] = []
        limits_seen: set[str | None] = set()
        gate = asyncio.Semaphore(40)
        urls = [harness.base_url, other_url]

        async def one(http: httpx.AsyncClient, index: int) -> None:
            async with gate:
                response = await http.post(
                    f"{urls[index % 2]}{CHAT}", json=chat(), headers={"authorization": f"Bearer {key}"}
                )
            statuses[response.status_code] += 1
            if response.status_code == 429:
                assert response.json()["error"]["code"] == "rate_limit_exceeded"
                retry_after.append(response.headers.get("retry-after"))
            else:
                limits_seen.add(response.headers.get("x-ratelimit-limit-requests"))

        async with httpx.AsyncClient(timeout=30, trust_env=False) as http:
            await asyncio.gather(*(one(http, i) for i in range(600)))
        assert statuses == Counter({200: 100, 429: 500})
        assert all(value is not None and int(value) >= 1 for value in retry_after)
        assert limits_seen == {"100"}
        # Refusals never reached the provider and produced no usage event.
        assert len(harness.fake.requests(CHAT)) == 100
        await asyncio.sleep(1.0)
        assert await harness.usage_count() == 100
    finally:
        other.stop()


async def test_a_killed_proxy_holds_its_parallel_slot_no_longer_than_the_lease_ttl(
    harness: Harness, tmp_path: Path
) -> None:
    ttl_s = 2.0
    other, other_url = await start_two(
        harness, tmp_path, with_slow_model(harness, 10_000), RATE_LIMIT_LEASE_TTL_S=str(ttl_s)
    )
    try:
        key, record = await harness.create_key(key_limits=RateLimits(max_parallel=1))
        headers = {"authorization": f"Bearer {key}"}
        par_key = f"gw:rl:k:{record.key_id}:par"
        async with httpx.AsyncClient(timeout=30, trust_env=False) as http:
            # A finished request releases its slot at once.
            first = await http.post(f"{other_url}{CHAT}", json=chat(), headers=headers)
            assert first.status_code == 200
            assert (await http.post(f"{other_url}{CHAT}", json=chat(), headers=headers)).status_code == 200

            slow = asyncio.create_task(
                http.post(f"{harness.base_url}{CHAT}", json=chat("demo-sync-timeout"), headers=headers)
            )
            deadline = time.monotonic() + 10
            while await harness.redis.zcard(par_key) != 1:
                assert time.monotonic() < deadline, "the slow request never took its slot"
                await asyncio.sleep(0.02)
            await asyncio.sleep(ttl_s)  # longer than one TTL: the live proxy renews the lease
            held = await http.post(f"{other_url}{CHAT}", json=chat(), headers=headers)
            assert held.status_code == 429
            assert held.json()["error"]["code"] == "rate_limit_exceeded"

            assert harness.process is not None
            kill_hard(harness.process)
            killed_at = time.monotonic()
            # The killed proxy's client sees its connection drop.
            with contextlib.suppress(httpx.TransportError):
                await slow
            while True:
                response = await http.post(f"{other_url}{CHAT}", json=chat(), headers=headers)
                if response.status_code == 200:
                    break
                assert response.status_code == 429
                assert time.monotonic() - killed_at < ttl_s + 1.0, "the dead proxy's slot outlived its TTL"
                await asyncio.sleep(0.05)
            freed_after = time.monotonic() - killed_at
            print(f"slot of the killed proxy freed {freed_after:.2f}s after SIGKILL (lease TTL {ttl_s}s)")
            assert freed_after <= ttl_s + 1.0
    finally:
        other.stop()
