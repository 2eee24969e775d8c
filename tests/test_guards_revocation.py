"""Revocation across proxy replicas: control's revoke call → refusal on every proxy, measured.

Two proxies serve the same system (the session's proxy and a second process with the same
settings on another port). Each trial creates a key, warms it into both proxies' caches,
revokes it through control's API and polls both proxies until each refuses it; the figure is
the time from the start of the revoke call to the refusal on the slower proxy.
"""

from __future__ import annotations

import threading
import time
import uuid

import httpx
import pytest
from gateway_devstack.latency import LatencySummary, poll_until
from gateway_devstack.procs import ManagedProcess, free_port
from gateway_devstack.seed import ControlClient
from gateway_devstack.system import GatewaySystem

TRIALS = 20


def _until_status(http: httpx.Client, url: str, key: str, wanted: int, timeout_s: float) -> float:
    """Poll GET /v1/models with `key` until it answers `wanted`; return when (monotonic)."""
    headers = {"authorization": f"Bearer {key}"}
    return poll_until(
        lambda: http.get(f"{url}/v1/models", headers=headers).status_code == wanted,
        timeout_s,
        f"{url} answering {wanted}",
    )


@pytest.mark.e2e
def test_revocation_reaches_every_replica_within_one_second(
    admin: ControlClient, system: GatewaySystem
) -> None:
    port = free_port()
    base = system.service_process("proxy")
    second = ManagedProcess(
        "proxy-2",
        base.argv,
        {**base.env, "PROXY_PORT": str(port), "INSTANCE_ID": "proxy-2"},
        cwd=None,
        log_path=system.root / "logs" / "proxy-2.log",
        ready_url=f"http://127.0.0.1:{port}/healthz",
    )
    urls = [system.proxy_url.removesuffix("/v1"), f"http://127.0.0.1:{port}"]
    second.start()
    try:
        second.wait_ready(60)
        tenant = admin.post("/api/v1/tenants", {"name": f"revoke-{uuid.uuid4().hex[:8]}"})
        latencies: list[float] = []
        with httpx.Client(timeout=5, trust_env=False) as http:
            _until_status(http, urls[1], "sk-gw-none", 401, 30)  # the second proxy serves
            for index in range(TRIALS):
                key = admin.post(f"/api/v1/tenants/{tenant['id']}/keys", {"name": f"revoke-{index}"})
                for url in urls:
                    _until_status(http, url, key["key"], 200, 10)
                refused_at: dict[str, float] = {}

                def watch(url: str, api_key: str, into: dict[str, float]) -> None:
                    with httpx.Client(timeout=5, trust_env=False) as own:
                        into[url] = _until_status(own, url, api_key, 401, 5)

                started = time.monotonic()
                threads = [threading.Thread(target=watch, args=(url, key["key"], refused_at)) for url in urls]
                for thread in threads:
                    thread.start()
                admin.post(f"/api/v1/keys/{key['id']}/revoke", {})
                for thread in threads:
                    thread.join()
                assert set(refused_at) == set(urls)
                latencies.append(max(refused_at.values()) - started)
        summary = LatencySummary.of(latencies)
        print(f"revocation on 2 proxies over {summary}")
        assert summary.p99 < 1.0
    finally:
        second.stop()
