"""The scheduler and the KV store in-process, on the real NATS: compare-and-set and the ownership seam."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from gateway_common.nats import NatsConnection
from gateway_health.errors import HealthWriteConflict
from gateway_health.metrics import HealthMetrics
from gateway_health.ownership import OwnAll
from gateway_health.prober import Prober
from gateway_health.scheduler import ProbeScheduler
from gateway_health.store import HealthStore
from gateway_health.targets import targets_from_snapshot
from gateway_health.verdict import HealthRules
from gateway_proto.v1.health_pb2 import HEALTH_STATUS_HEALTHY, DeploymentHealth


@pytest.fixture
async def connection(nats_url: str) -> AsyncIterator[NatsConnection]:
    conn = NatsConnection(nats_url, name="health-test")
    conn.start()
    await conn.wait_connected(timeout=10)
    try:
        yield conn
    finally:
        await conn.close()


async def test_store_writes_are_compare_and_set(connection: NatsConnection) -> None:
    store = HealthStore(connection)
    first = await store.write(DeploymentHealth(deployment_id="d1", prober="a"), expected_revision=0)
    with pytest.raises(HealthWriteConflict):
        await store.write(DeploymentHealth(deployment_id="d1", prober="b"), expected_revision=0)
    second = await store.write(DeploymentHealth(deployment_id="d1", prober="b"), expected_revision=first)
    with pytest.raises(HealthWriteConflict):
        await store.write(DeploymentHealth(deployment_id="d1", prober="c"), expected_revision=first)
    stored, revision = await store.read("d1")
    assert stored is not None
    assert stored.prober == "b"
    assert revision == second

    # A deleted record can be created again from revision 0 (the tombstone does not block it).
    await store.remove("d1")
    assert await store.read("d1") == (None, 0)
    await store.write(DeploymentHealth(deployment_id="d1", prober="d"), expected_revision=0)
    assert await store.deployment_ids() == {"d1"}


class OwnNothing:
    """Another replica holds every lease (what issue 8's leases answer on the losing replica)."""

    def __init__(self) -> None:
        self.asked: list[str] = []
        self.released: list[str] = []

    async def owns(self, deployment_id: str) -> bool:
        self.asked.append(deployment_id)
        return False

    async def release(self, deployment_id: str) -> None:
        self.released.append(deployment_id)


def _scheduler(connection: NatsConnection, http: httpx.AsyncClient, ownership: object) -> ProbeScheduler:
    return ProbeScheduler(
        nats=connection,
        store=HealthStore(connection),
        prober=Prober(http, timeout_s=2),
        ownership=ownership,  # type: ignore[arg-type]
        rules=HealthRules(window=3, unhealthy_after=2, cooldown=timedelta(seconds=30)),
        metrics=HealthMetrics(),
        interval_s=0.1,
        jitter=0.1,
        instance="in-process",
        rng=random.Random(7),
    )


async def test_only_owned_deployments_are_probed(
    connection: NatsConnection, snapshots, dataplane_keys, fake_openai
) -> None:
    store = HealthStore(connection)
    snapshot = snapshots.snapshot(
        1, [snapshots.provider("p-a", fake_openai), snapshots.provider("p-b", fake_openai)]
    )
    targets = targets_from_snapshot(snapshot, dataplane_keys)

    async with httpx.AsyncClient() as http:
        nobody = OwnNothing()
        scheduler = _scheduler(connection, http, nobody)
        scheduler.update_targets(targets)
        task = asyncio.create_task(scheduler.run())
        await asyncio.sleep(1.0)
        await scheduler.stop()
        await asyncio.wait_for(task, 5)
        assert {"dep-a", "dep-b"} <= set(nobody.asked)
        assert sorted(nobody.released) == ["dep-a", "dep-b"]  # handed back at shutdown
        assert await store.deployment_ids() == set()

        scheduler = _scheduler(connection, http, OwnAll())
        scheduler.update_targets(targets)
        task = asyncio.create_task(scheduler.run())
        try:
            for _ in range(100):
                records = [(await store.read(d))[0] for d in ("dep-a", "dep-b")]
                if all(r is not None and len(r.recent) == 3 for r in records):
                    break
                await asyncio.sleep(0.05)
            assert all(
                r is not None and r.status == HEALTH_STATUS_HEALTHY and r.prober == "in-process"
                for r in records
            )

            # Removing a deployment stops its loop, releases it and deletes its record.
            scheduler.update_targets({"dep-a": targets["dep-a"]})
            for _ in range(100):
                if await store.deployment_ids() == {"dep-a"}:
                    break
                await asyncio.sleep(0.05)
            assert await store.deployment_ids() == {"dep-a"}
            assert scheduler.deployment_ids == frozenset({"dep-a"})
        finally:
            await scheduler.stop()
            await asyncio.wait_for(task, 5)
