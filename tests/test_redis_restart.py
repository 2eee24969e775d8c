"""Redis restarted empty under load: keys keep working, control re-populates them, no 401 storm.

A system of its own (this test stops its Redis). Thirty keys serve a steady request loop across
the restart; a key created while Redis is empty must work too (the proxy asks control on a
Redis miss). Every answer is recorded: the test fails on any 401, and on a request that did
not succeed once Redis was back and control had re-populated the key records.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis
from gateway_devstack.base import Stack
from gateway_devstack.latency import poll_until
from gateway_devstack.seed import ControlClient
from gateway_devstack.settings import StackSettings
from gateway_devstack.stack import start_stack
from gateway_devstack.system import GatewaySystem, SystemPorts, SystemSecrets

KEYS = 30


@pytest.fixture(scope="module")
def own_system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, GatewaySystem]]:
    root: Path = tmp_path_factory.mktemp("redis-restart")
    with start_stack(StackSettings.from_env(root / "stack", {}, durable=False)) as stack:
        base_env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
        gateway = GatewaySystem(
            root / "system", stack.endpoints, SystemPorts.free(), SystemSecrets.generate(), base_env=base_env
        )
        with gateway:
            yield stack, gateway


class Load:
    """Requests GET /v1/models round-robin over the keys until stopped; records (time, status)."""

    def __init__(self, url: str, keys: list[str]) -> None:
        self._url = url
        self._keys = keys
        self._stop = threading.Event()
        self.results: list[tuple[float, int]] = []
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with httpx.Client(base_url=self._url, timeout=5, trust_env=False) as http:
            index = 0
            while not self._stop.is_set():
                key = self._keys[index % len(self._keys)]
                index += 1
                try:
                    status = http.get("/models", headers={"authorization": f"Bearer {key}"}).status_code
                except httpx.TransportError:
                    status = 0
                self.results.append((time.monotonic(), status))
                time.sleep(0.01)

    def __enter__(self) -> Load:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)


@pytest.mark.e2e
def test_keys_survive_a_redis_restart_empty_under_load(own_system: tuple[Stack, GatewaySystem]) -> None:
    stack, system = own_system
    admin = ControlClient(system.control_url, system.secrets.admin_email, system.secrets.admin_password)
    try:
        tenant = admin.post("/api/v1/tenants", {"name": f"restart-{uuid.uuid4().hex[:8]}"})
        keys = [
            admin.post(f"/api/v1/tenants/{tenant['id']}/keys", {"name": f"k{i}"})["key"] for i in range(KEYS)
        ]
        store = redis.Redis.from_url(stack.endpoints.redis_url)
        with httpx.Client(base_url=system.proxy_url, timeout=5, trust_env=False) as http:
            for key in keys:  # every key works before the restart
                poll_until(
                    lambda key=key: (
                        http.get("/models", headers={"authorization": f"Bearer {key}"}).status_code == 200
                    ),
                    10,
                    "key served",
                )
        with Load(system.proxy_url, keys) as load:
            time.sleep(1.0)
            stack.stop_redis()
            restarted = time.monotonic()
            stack.start_redis()
            # A key created while Redis is empty: the proxy finds it through control.
            fresh = admin.post(f"/api/v1/tenants/{tenant['id']}/keys", {"name": "after-restart"})["key"]
            with httpx.Client(base_url=system.proxy_url, timeout=5, trust_env=False) as http:
                status = http.get("/models", headers={"authorization": f"Bearer {fresh}"}).status_code
            assert status == 200
            repopulated = poll_until(
                lambda: (
                    bool(store.exists("gw:keys:populated")) and len(list(store.scan_iter("gw:key:*"))) > KEYS
                ),
                30,
                "control re-populating the key records",
            )
            time.sleep(2.0)
        statuses = Counter(status for _, status in load.results)
        after = Counter(status for at, status in load.results if at > repopulated + 0.5)
        print(
            f"redis restart: {len(load.results)} requests, statuses {dict(statuses)}, "
            f"key records back {repopulated - restarted:.2f} s after the restart"
        )
        assert statuses[401] == 0, statuses
        assert set(after) == {200}, after
        assert sum(1 for at, _ in load.results if at > restarted) > 50  # the load really ran across it
        store.close()
    finally:
        admin.close()
