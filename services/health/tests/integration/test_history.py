"""Down and back across the cooldown with two replicas, and HEALTH_HISTORY served over gRPC."""

from __future__ import annotations

import asyncio

import grpc
from gateway_common.names import HEALTH_BUCKET
from gateway_proto.v1 import health_pb2_grpc
from gateway_proto.v1.health_pb2 import (
    HEALTH_STATUS_HEALTHY,
    HEALTH_STATUS_UNHEALTHY,
    DeploymentHealth,
    GetDeploymentHealthRequest,
)

HISTORY = 12


async def test_down_then_back_with_the_history_kept_beyond_the_window(
    start_health, kv, snapshots, fake_openai
) -> None:
    flaky = snapshots.provider("p-flaky", fake_openai, settings={"header.x-fake-status": "503"})
    await kv.publish(snapshots.snapshot(1, [flaky]))
    settings = {
        "HEALTH_HISTORY": str(HISTORY),
        "HEALTH_WINDOW": "3",
        "HEALTH_UNHEALTHY_AFTER": "2",
        "HEALTH_COOLDOWN_S": "1.5",
    }
    replicas = [start_health(**settings), start_health(**settings)]

    down = await kv.wait_health("dep-flaky", lambda h: h.status == HEALTH_STATUS_UNHEALTHY)
    assert down.recent[-1].status_code == 503
    bucket = await kv.js.key_value(HEALTH_BUCKET)
    watcher = await bucket.watch("dep-flaky")
    await kv.publish(snapshots.snapshot(2, [snapshots.provider("p-flaky", fake_openai)]))
    up = await kv.wait_health("dep-flaky", lambda h: h.status == HEALTH_STATUS_HEALTHY)

    # From the probe's answer (the verdict is decided then) to the KV put that publishes it.
    async with asyncio.timeout(10):
        async for entry in watcher:
            record = DeploymentHealth.FromString(entry.value) if entry and entry.value else None
            if record is not None and record.status == HEALTH_STATUS_HEALTHY:
                break
    await watcher.stop()
    answered_ns = record.recent[-1].at.ToNanoseconds() + record.recent[-1].latency_ms * 1_000_000
    put_delay_s = entry.created.timestamp() - answered_ns / 1e9
    print(f"verdict change -> KV put: {put_delay_s * 1000:.1f} ms")
    assert put_delay_s < 0.25
    assert up.checked_at.ToDatetime() >= down.cooldown_until.ToDatetime()
    # The record that recovered still carries the failures that took it down, beyond the window.
    assert len(up.recent) > 3
    assert [r.status_code for r in up.recent if not r.ok][:1] == [503]
    assert up.recent[-1].ok

    # `recent` grows past the window (3) up to HEALTH_HISTORY and then stays there, so the UI
    # still sees the failures that took the deployment down.
    full = await kv.wait_health("dep-flaky", lambda h: len(h.recent) == HISTORY, timeout=20)
    times = [r.at.ToNanoseconds() for r in full.recent]
    assert times == sorted(times)
    later = await kv.wait_health(
        "dep-flaky", lambda h: h.checked_at.ToNanoseconds() > full.checked_at.ToNanoseconds()
    )
    assert len(later.recent) == HISTORY
    assert later.status == HEALTH_STATUS_HEALTHY

    # Every replica answers with the whole history, whichever replica probed.
    for replica in replicas:
        async with grpc.aio.insecure_channel(replica.grpc_target) as channel:
            stub = health_pb2_grpc.HealthServiceStub(channel)
            answer = await stub.GetDeploymentHealth(
                GetDeploymentHealthRequest(deployment_ids=["dep-flaky"]), timeout=5
            )
            (record,) = answer.deployments
            assert len(record.recent) == HISTORY
            assert record.status == HEALTH_STATUS_HEALTHY
