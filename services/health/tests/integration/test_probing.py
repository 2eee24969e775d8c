"""The health service against real NATS and the fake OpenAI upstream, as a real subprocess."""

from __future__ import annotations

import asyncio
import time

import grpc
import httpx
from gateway_devstack.procs import free_port
from gateway_proto.v1 import health_pb2_grpc
from gateway_proto.v1.health_pb2 import (
    HEALTH_STATUS_HEALTHY,
    HEALTH_STATUS_UNHEALTHY,
    HEALTH_STATUS_UNSPECIFIED,
    DeploymentHealth,
    GetDeploymentHealthRequest,
)

WRONG_KEY = "sk-wrong-key-never-stored-in-clear-42"


def healthy(h: DeploymentHealth) -> bool:
    return h.status == HEALTH_STATUS_HEALTHY


def unhealthy(h: DeploymentHealth) -> bool:
    return h.status == HEALTH_STATUS_UNHEALTHY


async def test_good_and_broken_deployments_are_judged_and_served_over_grpc(
    start_health, kv, snapshots, fake_openai
) -> None:
    closed = f"http://127.0.0.1:{free_port()}/v1"
    await kv.publish(
        snapshots.snapshot(
            1,
            [
                snapshots.provider("p-good", fake_openai),
                snapshots.provider("p-badkey", fake_openai, api_key=WRONG_KEY),
                snapshots.provider("p-refused", closed),
                snapshots.provider("p-500", fake_openai, settings={"header.x-fake-status": "500"}),
                # Sealed for another provider id: the credential must not open for this one.
                snapshots.provider("p-wrongaad", fake_openai, aad="p-good"),
            ],
        )
    )
    service = start_health()

    good = await kv.wait_health("dep-good", lambda h: healthy(h) and len(h.recent) == 5)
    assert all(r.ok and r.status_code == 200 for r in good.recent)
    assert good.prober == "health-test-0"
    assert not good.HasField("cooldown_until")

    badkey = await kv.wait_health("dep-badkey", unhealthy)
    assert badkey.recent[-1].status_code == 401
    assert WRONG_KEY not in badkey.recent[-1].error
    cooldown = badkey.cooldown_until.ToDatetime() - badkey.recent[0].at.ToDatetime()
    assert 29 <= cooldown.total_seconds() <= 31  # HEALTH_COOLDOWN_S=30 from the first failure

    refused = await kv.wait_health("dep-refused", unhealthy)
    assert refused.recent[-1].status_code == 0
    assert refused.recent[-1].error.startswith("transport: ConnectError")

    failing = await kv.wait_health("dep-500", unhealthy)
    assert failing.recent[-1].status_code == 500

    wrongaad = await kv.wait_health("dep-wrongaad", unhealthy)
    assert wrongaad.recent[-1].error.startswith("config: provider credentials cannot be opened")

    # The window never grows past HEALTH_WINDOW, and probes keep coming.
    later = await kv.wait_health(
        "dep-good", lambda h: h.checked_at.ToDatetime() > good.checked_at.ToDatetime()
    )
    assert len(later.recent) == 5

    async with grpc.aio.insecure_channel(service.grpc_target) as channel:
        stub = health_pb2_grpc.HealthServiceStub(channel)
        everything = await stub.GetDeploymentHealth(GetDeploymentHealthRequest(), timeout=5)
        by_id = {d.deployment_id: d.status for d in everything.deployments}
        assert by_id == {
            "dep-good": HEALTH_STATUS_HEALTHY,
            "dep-badkey": HEALTH_STATUS_UNHEALTHY,
            "dep-refused": HEALTH_STATUS_UNHEALTHY,
            "dep-500": HEALTH_STATUS_UNHEALTHY,
            "dep-wrongaad": HEALTH_STATUS_UNHEALTHY,
        }
        assert [d.deployment_id for d in everything.deployments] == sorted(by_id)
        some = await stub.GetDeploymentHealth(
            GetDeploymentHealthRequest(deployment_ids=["dep-good", "dep-unknown"]), timeout=5
        )
        assert [(d.deployment_id, d.status) for d in some.deployments] == [
            ("dep-good", HEALTH_STATUS_HEALTHY),
            ("dep-unknown", HEALTH_STATUS_UNSPECIFIED),
        ]
        assert len(some.deployments[0].recent) == 5

    async with httpx.AsyncClient(base_url=service.base_url) as http:
        ready = await http.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"] == {"nats": True, "config_snapshot": True, "health_view": True}
        metrics = (await http.get("/metrics")).text
        assert 'gateway_health_probes_total{deployment="dep-good",result="ok"}' in metrics
        assert 'gateway_health_probes_total{deployment="dep-badkey",result="failed"}' in metrics
        assert 'gateway_health_probe_latency_seconds_count{deployment="dep-good"}' in metrics
        assert 'gateway_health_deployment_status{deployment="dep-500"} 0.0' in metrics
        assert (await http.get("/healthz")).headers["x-request-id"]


async def test_recovers_after_cooldown_and_forgets_removed_deployments(
    start_health, kv, snapshots, fake_openai
) -> None:
    broken = snapshots.provider("p-flaky", fake_openai, settings={"header.x-fake-status": "503"})
    await kv.publish(snapshots.snapshot(1, [broken, snapshots.provider("p-good", fake_openai)]))
    service = start_health(HEALTH_COOLDOWN_S="1.5")

    down = await kv.wait_health("dep-flaky", unhealthy)
    await kv.publish(
        snapshots.snapshot(
            2, [snapshots.provider("p-flaky", fake_openai), snapshots.provider("p-good", fake_openai)]
        )
    )
    # The upstream answers again at once, but the verdict waits for the cooldown to end.
    still_down = await kv.wait_health("dep-flaky", lambda h: unhealthy(h) and h.recent[-1].ok)
    assert still_down.checked_at.ToDatetime() < down.cooldown_until.ToDatetime()
    up = await kv.wait_health("dep-flaky", healthy)
    assert up.checked_at.ToDatetime() >= down.cooldown_until.ToDatetime()

    await kv.publish(snapshots.snapshot(3, [snapshots.provider("p-good", fake_openai)]))
    deadline = time.monotonic() + 10
    while await kv.health_keys() != {"dep-good"}:
        assert time.monotonic() < deadline, await kv.health_keys()
        await kv.nc.flush()
        await asyncio.sleep(0.1)
    async with grpc.aio.insecure_channel(service.grpc_target) as channel:
        stub = health_pb2_grpc.HealthServiceStub(channel)
        deadline = time.monotonic() + 10
        while True:
            listed = await stub.GetDeploymentHealth(GetDeploymentHealthRequest(), timeout=5)
            if [d.deployment_id for d in listed.deployments] == ["dep-good"]:
                break
            assert time.monotonic() < deadline, listed
            await asyncio.sleep(0.1)
