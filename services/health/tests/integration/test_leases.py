"""Exactly one prober per deployment across health replicas (KV leases), as real subprocesses.

Each deployment's provider sends a header naming the deployment (plus a per-test nonce), so the
fake upstream's request log tells, per deployment, when it was probed — by whichever replica.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import signal
import time
import uuid
from collections import defaultdict

import httpx
from gateway_health.lease import LEASE_BUCKET
from gateway_proto.v1.health_pb2 import HEALTH_STATUS_HEALTHY
from nats.js.errors import KeyNotFoundError

INTERVAL_S = 0.5
JITTER = 0.1
LEASE_TTL_S = 1.5  # the default, 3 probe intervals
PROBE_HEADER = "x-probe-deployment"
DEPLOYMENTS = [f"dep-l{i}" for i in range(6)]


async def _probe_times(fake_openai: str, nonce: str) -> dict[str, list[float]]:
    """When the fake upstream received each deployment's probes (this test's only), sorted."""
    root = fake_openai.removesuffix("/v1")
    async with httpx.AsyncClient() as http:
        records = (await http.get(f"{root}/_fake/requests", params={"path": "/v1/models"})).json()
    times: dict[str, list[float]] = defaultdict(list)
    for record in records:
        value = next((v for k, v in record["headers"] if k.lower() == PROBE_HEADER), "")
        deployment, _, tag = value.partition("/")
        if tag == nonce:
            times[deployment].append(record["received_at"])
    return {d: sorted(t) for d, t in times.items()}


async def _holders(kv) -> dict[str, str]:
    bucket = await kv.js.key_value(LEASE_BUCKET)
    holders = {}
    for deployment in DEPLOYMENTS:
        try:
            entry = await bucket.get(deployment)
        except KeyNotFoundError:
            continue
        holders[deployment] = json.loads(entry.value)["holder"]
    return holders


def _assert_one_prober(times: dict[str, list[float]], since: float, until: float) -> None:
    """Every deployment probed steadily in [since, until], never twice within an interval."""
    for deployment in DEPLOYMENTS:
        window = [t for t in times.get(deployment, []) if since <= t <= until]
        # Probed all along (a generous bound, the machine may be busy) ...
        assert len(window) >= (until - since) / (2 * INTERVAL_S), (deployment, window)
        # ... and never twice within one (jittered) interval, whichever replica probed.
        gaps = [b - a for a, b in itertools.pairwise(window)]
        assert min(gaps) >= INTERVAL_S * (1 - JITTER) - 0.1, (deployment, gaps)


async def test_three_replicas_probe_each_deployment_once_and_hand_over_on_sigkill(
    start_health, kv, snapshots, fake_openai
) -> None:
    nonce = uuid.uuid4().hex
    providers = [
        snapshots.provider(
            "p-" + d.removeprefix("dep-"), fake_openai, settings={f"header.{PROBE_HEADER}": f"{d}/{nonce}"}
        )
        for d in DEPLOYMENTS
    ]
    await kv.publish(snapshots.snapshot(1, providers))
    overrides = {"HEALTH_PROBE_INTERVAL_S": str(INTERVAL_S), "HEALTH_PROBE_JITTER": str(JITTER)}
    services = [start_health(**overrides) for _ in range(3)]
    for deployment in DEPLOYMENTS:
        await kv.wait_health(deployment, lambda h: h.status == HEALTH_STATUS_HEALTHY)

    # Steady state with all three replicas up: one prober per deployment.
    since = time.time()
    await asyncio.sleep(4)
    _assert_one_prober(await _probe_times(fake_openai, nonce), since, time.time())
    holders = await _holders(kv)
    assert set(holders) == set(DEPLOYMENTS)
    assert set(holders.values()) <= {f"health-test-{i}" for i in range(3)}

    # Each replica's own metrics agree: a deployment's probes all come from its lease holder.
    probed_by: dict[str, set[str]] = defaultdict(set)
    for index, service in enumerate(services):
        async with httpx.AsyncClient(base_url=service.base_url) as http:
            metrics = (await http.get("/metrics")).text
        for deployment in DEPLOYMENTS:
            if f'gateway_health_probes_total{{deployment="{deployment}",result="ok"}}' in metrics:
                probed_by[deployment].add(f"health-test-{index}")
    assert {d: {holders[d]} for d in DEPLOYMENTS} == dict(probed_by)

    # SIGKILL the replica holding the most leases (no release): another takes over within the TTL.
    victim_name = max(set(holders.values()), key=list(holders.values()).count)
    victim = services[int(victim_name.rsplit("-", 1)[1])]
    orphaned = {d for d, h in holders.items() if h == victim_name}
    assert victim.proc.pid is not None
    killed_at = time.time()
    os.killpg(victim.proc.pid, signal.SIGKILL)  # the whole group: Granian and its worker
    victim.proc.stop()

    deadline = killed_at + LEASE_TTL_S + INTERVAL_S * (1 + JITTER) + 1.0
    while True:
        holders = await _holders(kv)
        if all(holders.get(d, victim_name) != victim_name for d in orphaned):
            break
        assert time.time() < deadline, holders
        await asyncio.sleep(0.05)
    taken_over_at = time.time()
    assert taken_over_at - killed_at <= LEASE_TTL_S + INTERVAL_S * (1 + JITTER) + 0.5
    # Not before the lease expired: a dead holder's lease is never stolen early.
    assert taken_over_at - killed_at >= LEASE_TTL_S - INTERVAL_S * (1 + JITTER) - 0.2

    await asyncio.sleep(3)
    after = await _probe_times(fake_openai, nonce)
    _assert_one_prober(after, taken_over_at, time.time())
    for deployment in orphaned:
        await kv.wait_health(
            deployment,
            lambda h: h.prober != victim_name and h.checked_at.ToNanoseconds() / 1e9 > taken_over_at,
        )
