"""Deployment health through control's API, from the real health service.

Control publishes the catalogue to NATS KV; the health service (a real `python -m
gateway_health` subprocess on the same NATS, sharing the data-plane key) probes the fake
OpenAI upstream and answers control over gRPC. Nothing is mocked.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from gateway_devstack.procs import ManagedProcess, free_port
from gateway_fakes.process import FakeProcess, run_fake

from .rbac_helpers import add_member, create_user, login

PRICE = {"input_micro_usd_per_mtok": 1, "output_micro_usd_per_mtok": 1}

StartHealth = Callable[[int], ManagedProcess]


@pytest.fixture(scope="module")
def upstream() -> Iterator[FakeProcess]:
    with run_fake("openai") as fake:
        yield fake


@pytest.fixture
def start_health(nats_url: str, control_env: dict[str, str], tmp_path: Path) -> Iterator[StartHealth]:
    """Start the health service on a given gRPC port, with control's data-plane key; stopped after."""
    started: list[ManagedProcess] = []

    def start(grpc_port: int) -> ManagedProcess:
        http_port = free_port()
        env = {
            **os.environ,
            "NATS_URL": nats_url,
            "DATAPLANE_KEY": control_env["DATAPLANE_KEY"],
            "DATAPLANE_KEY_ID": control_env["DATAPLANE_KEY_ID"],
            "HEALTH_PORT": str(http_port),
            "HEALTH_GRPC_PORT": str(grpc_port),
            "HEALTH_PROBE_INTERVAL_S": "0.3",
            "HEALTH_PROBE_TIMEOUT_S": "2",
            "HEALTH_COOLDOWN_S": "30",
            "HEALTH_VIEW_RESYNC_S": "2",
            "HEALTH_HISTORY": "8",
            "INSTANCE_ID": f"health-ctl-{len(started)}",
        }
        env.pop("GATEWAY_CONFIG_FILE", None)
        proc = ManagedProcess(
            f"health-{len(started)}",
            [sys.executable, "-m", "gateway_health"],
            env=env,
            cwd=tmp_path,
            log_path=tmp_path / f"health-{len(started)}.log",
            ready_url=f"http://127.0.0.1:{http_port}/healthz",
        )
        started.append(proc)
        proc.start()
        proc.wait_ready(timeout=30)
        return proc

    try:
        yield start
    finally:
        for proc in started:
            proc.stop()


async def _catalog(client: httpx.AsyncClient, upstream: FakeProcess) -> dict[str, str]:
    """Model `chat` on a good deployment (tier 0) and one whose port refuses (tier 1)."""
    ids: dict[str, str] = {}
    for name, base_url in (("good", upstream.base_url), ("refused", f"http://127.0.0.1:{free_port()}/v1")):
        provider = await client.post(
            "/api/v1/providers",
            json={
                "name": name,
                "type": "openai",
                "base_url": base_url,
                "credentials": {"api_key": upstream.api_key},
            },
        )
        assert provider.status_code == 201, provider.text
        ids[name] = provider.json()["id"]
    for model in ("chat", "other"):
        assert (
            await client.post("/api/v1/models", json={"name": model, "pricing": PRICE})
        ).status_code == 201
    route = await client.post(
        "/api/v1/routes",
        json={
            "model": "chat",
            "deployments": [
                {"provider_id": ids["good"], "upstream_model": "gpt-4o-mini"},
                {"provider_id": ids["refused"], "upstream_model": "gpt-4o-mini", "priority": 1},
            ],
        },
    )
    assert route.status_code == 201, route.text
    other = await client.post(
        "/api/v1/routes",
        json={"model": "other", "deployments": [{"provider_id": ids["good"], "upstream_model": "gpt-4.1"}]},
    )
    assert other.status_code == 201, other.text
    good, refused = route.json()["deployments"]
    ids.update(
        route=route.json()["id"],
        dep_good=good["id"],
        dep_refused=refused["id"],
        dep_other=other.json()["deployments"][0]["id"],
    )
    return ids


async def _wait_listing(
    client: httpx.AsyncClient, predicate: Callable[[dict[str, dict[str, Any]]], bool], timeout: float = 30.0
) -> dict[str, dict[str, Any]]:
    """Poll the list endpoint until `predicate(items by deployment id)` holds."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        response = await client.get("/api/v1/health/deployments")
        last = response.text
        if response.status_code == 200:
            items = {item["deployment_id"]: item for item in response.json()["items"]}
            if predicate(items):
                return items
        await asyncio.sleep(0.2)
    raise AssertionError(f"deployment health not as expected within {timeout}s; last answer: {last}")


def _assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    error = response.json()["error"]
    assert error["code"] == "health_unavailable"
    assert "health service" in error["message"]
    assert error["request_id"] == response.headers["x-request-id"]


async def test_deployment_health_joins_names_with_probe_results(
    start_control: Any, start_health: StartHealth, upstream: FakeProcess
) -> None:
    grpc_port = free_port()
    control = start_control(HEALTH_GRPC_TARGET=f"127.0.0.1:{grpc_port}")
    async with control.client(await control.login()) as client:
        ids = await _catalog(client, upstream)
        # Health not started yet: control answers 503 in its error shape, not a 500.
        _assert_unavailable(await client.get("/api/v1/health/deployments"))
        _assert_unavailable(await client.get(f"/api/v1/health/deployments/{ids['dep_good']}"))

        start_health(grpc_port)
        items = await _wait_listing(
            client,
            lambda items: (
                items[ids["dep_good"]]["status"] == "healthy"
                and len(items[ids["dep_good"]]["recent"]) >= 3
                and items[ids["dep_refused"]]["status"] == "unhealthy"
            ),
        )
        # By model name, then priority tier.
        assert list(items) == [ids["dep_good"], ids["dep_refused"], ids["dep_other"]]
        good = items[ids["dep_good"]]
        assert {k: good[k] for k in ("model", "provider", "provider_type", "upstream_model", "priority")} == {
            "model": "chat",
            "provider": "good",
            "provider_type": "openai",
            "upstream_model": "gpt-4o-mini",
            "priority": 0,
        }
        assert (good["provider_id"], good["in_service"], good["prober"]) == (
            ids["good"],
            True,
            "health-ctl-0",
        )
        assert good["checked_at"] is not None
        assert good["cooldown_until"] is None
        assert all(p["ok"] and p["status_code"] == 200 and p["error"] is None for p in good["recent"])
        assert [p["at"] for p in good["recent"]] == sorted(p["at"] for p in good["recent"])
        refused = items[ids["dep_refused"]]
        assert refused["cooldown_until"] is not None
        last = refused["recent"][-1]
        assert (last["ok"], last["status_code"]) == (False, None)
        assert last["error"].startswith("transport: ConnectError")
        assert upstream.api_key not in str(items)

        one = await client.get(f"/api/v1/health/deployments/{ids['dep_refused']}")
        assert one.status_code == 200, one.text
        assert one.json()["status"] == "unhealthy"
        assert one.json()["provider"] == "refused"
        missing = await client.get(f"/api/v1/health/deployments/{uuid.uuid4()}")
        assert missing.status_code == 404, missing.text
        assert missing.json()["error"]["code"] == "not_found"
        assert (await client.get("/api/v1/health/deployments/not-a-uuid")).status_code in (400, 404)

        only_other = await client.get("/api/v1/health/deployments", params={"model": "other"})
        assert [i["deployment_id"] for i in only_other.json()["items"]] == [ids["dep_other"]]
        nothing = await client.get("/api/v1/health/deployments", params={"model": "nope"})
        assert nothing.json() == {"items": []}

        # A disabled deployment leaves the snapshot: health forgets it, control still lists it.
        disabled = await client.patch(
            f"/api/v1/routes/{ids['route']}/deployments/{ids['dep_refused']}", json={"enabled": False}
        )
        assert disabled.status_code == 200, disabled.text
        items = await _wait_listing(client, lambda items: items[ids["dep_refused"]]["status"] == "unknown")
        assert items[ids["dep_refused"]]["in_service"] is False
        assert items[ids["dep_refused"]]["recent"] == []
        assert items[ids["dep_good"]]["status"] == "healthy"


async def test_health_is_503_when_the_service_goes_away(
    start_control: Any, start_health: StartHealth, upstream: FakeProcess
) -> None:
    grpc_port = free_port()
    control = start_control(HEALTH_GRPC_TARGET=f"127.0.0.1:{grpc_port}", GRPC_TIMEOUT_S="2")
    health = start_health(grpc_port)
    async with control.client(await control.login()) as client:
        ids = await _catalog(client, upstream)
        await _wait_listing(client, lambda items: items[ids["dep_good"]]["status"] == "healthy")
        health.stop()
        started = time.monotonic()
        _assert_unavailable(await client.get("/api/v1/health/deployments"))
        _assert_unavailable(await client.get(f"/api/v1/health/deployments/{ids['dep_good']}"))
        # Fails within the gRPC deadline (2 s each), not a hung request; generous for a busy machine.
        assert time.monotonic() - started < 20
        # The rest of the API does not depend on health.
        assert (await client.get("/api/v1/routes")).status_code == 200


async def test_deployment_health_is_for_platform_admins(control: Any) -> None:
    admin_token = await control.login()
    async with control.client(admin_token) as admin:
        tenant = (await admin.post("/api/v1/tenants", json={"name": "t"})).json()["id"]
        await create_user(admin, "owner@t.example")
        await add_member(admin, tenant, "owner@t.example", "owner")
    owner = await login(control, "owner@t.example")
    for token in (owner, None):
        async with control.client(token) as client:
            for path in ("/api/v1/health/deployments", f"/api/v1/health/deployments/{uuid.uuid4()}"):
                response = await client.get(path)
                assert response.status_code == (403 if token else 401), response.text
                assert response.json()["error"]["code"] == ("forbidden" if token else "unauthorized")
