"""The probe scheduler: one loop per deployment, each probing on its own jittered clock.

`update_targets` (called for every applied ConfigSnapshot) starts loops for new deployments,
stops loops for removed ones (deleting their KV records) and hands changed ones their new target
at the next probe. Each loop:

1. waits: the first wait lets a deployment probed recently (its KV `checked_at`, by any
   replica) keep its cadence and spreads the others uniformly over one interval; every later
   wait is the interval times a random factor in 1 ± HEALTH_PROBE_JITTER, so probes never
   all fire at once;
2. asks `ownership.owns(deployment_id)` (by default a KV lease, see lease.py) and skips the round
   when another replica owns the deployment or NATS is down;
3. probes, then folds the result into the KV record with compare-and-set (read, `record_probe`,
   write at the read revision; on a conflict, read again and re-apply).

`stop()` lets every loop finish the probe it is in and publish it, then returns from `run()`.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Mapping
from datetime import UTC, datetime

from gateway_common.nats import NatsConnection
from gateway_proto.v1.health_pb2 import HEALTH_STATUS_UNHEALTHY, DeploymentHealth, HealthStatus, ProbeResult

from gateway_health.errors import HealthWriteConflict
from gateway_health.metrics import HealthMetrics
from gateway_health.ownership import Ownership
from gateway_health.prober import Prober
from gateway_health.store import NATS_FAILURES, HealthStore
from gateway_health.targets import ProbeTarget
from gateway_health.verdict import HealthRules, record_probe, to_datetime

log = logging.getLogger(__name__)

_WRITE_ATTEMPTS = 3


class ProbeScheduler:
    """Runs the per-deployment probe loops inside its own task group."""

    def __init__(
        self,
        *,
        nats: NatsConnection,
        store: HealthStore,
        prober: Prober,
        ownership: Ownership,
        rules: HealthRules,
        metrics: HealthMetrics,
        interval_s: float,
        jitter: float,
        instance: str,
        rng: random.Random | None = None,
    ) -> None:
        self._nats = nats
        self._store = store
        self._prober = prober
        self._ownership = ownership
        self._rules = rules
        self._metrics = metrics
        self._interval_s = interval_s
        self._jitter = jitter
        self._instance = instance
        self._rng = rng or random.Random()
        self._targets: dict[str, ProbeTarget] = {}
        self._loops: dict[str, asyncio.Task[None]] = {}
        self._changed = asyncio.Event()
        self._stopping = asyncio.Event()

    @property
    def deployment_ids(self) -> frozenset[str]:
        """The deployments being probed (as of the last snapshot applied)."""
        return frozenset(self._targets)

    def update_targets(self, targets: Mapping[str, ProbeTarget]) -> None:
        """Replace the set of deployments to probe (takes effect in `run`'s next turn)."""
        self._targets = dict(targets)
        self._changed.set()

    async def stop(self) -> None:
        """Ask every loop to finish its in-flight probe and exit; `run` returns once they have."""
        self._stopping.set()

    async def run(self) -> None:
        """Probe until `stop()`; run it in the service's task group."""
        async with asyncio.TaskGroup() as group:
            while not self._stopping.is_set():
                await _first_of(self._changed, self._stopping)
                if self._stopping.is_set():
                    break
                self._changed.clear()
                self._reconcile(group)
        await self._release_all()

    async def _release_all(self) -> None:
        """At shutdown, hand every deployment back so another replica need not wait out a lease."""
        released, self._loops = list(self._loops), {}
        try:
            for deployment_id in released:
                await self._ownership.release(deployment_id)
        except NATS_FAILURES as exc:
            log.warning("could not release deployments at shutdown: %s", exc)

    def _reconcile(self, group: asyncio.TaskGroup) -> None:
        retired = {i: self._loops.pop(i) for i in self._loops.keys() - self._targets.keys()}
        for deployment_id in self._targets.keys() - self._loops.keys():
            self._loops[deployment_id] = group.create_task(
                self._probe_loop(deployment_id), name=f"probe-{deployment_id}"
            )
        group.create_task(self._retire(retired))

    async def _probe_loop(self, deployment_id: str) -> None:
        delay = await self._first_delay(deployment_id)
        while not await self._stopped_within(delay):
            target = self._targets.get(deployment_id)
            if target is None:
                return
            await self.probe_once(target)
            delay = self._interval_s * self._rng.uniform(1 - self._jitter, 1 + self._jitter)

    async def probe_once(self, target: ProbeTarget) -> DeploymentHealth | None:
        """Probe one deployment if this replica owns it, and publish the new verdict."""
        deployment_id = target.deployment_id
        if not self._nats.connected:
            log.debug("NATS is down; skipping a probe round", extra={"deployment_id": deployment_id})
            return None
        try:
            if not await self._ownership.owns(deployment_id):
                return None
            result = await self._prober.probe(target)
            self._metrics.observe_probe(deployment_id, result)
            health = await self._publish(deployment_id, result)
        except NATS_FAILURES as exc:
            self._metrics.publish_failures.inc()
            self._store.forget_bucket()
            log.warning(
                "could not publish deployment health: %s", exc, extra={"deployment_id": deployment_id}
            )
            return None
        if health is not None:
            self._metrics.observe_status(health)
        return health

    async def _publish(self, deployment_id: str, result: ProbeResult) -> DeploymentHealth | None:
        for _ in range(_WRITE_ATTEMPTS):
            previous, revision = await self._store.read(deployment_id)
            health = record_probe(previous, deployment_id, result, self._rules, self._instance)
            try:
                await self._store.write(health, revision)
            except HealthWriteConflict:
                self._metrics.write_conflicts.inc()
                continue
            _log_transition(previous.status if previous is not None else None, health)
            return health
        log.warning(
            "gave up publishing a probe result after repeated write conflicts",
            extra={"deployment_id": deployment_id},
        )
        return None

    async def _first_delay(self, deployment_id: str) -> float:
        spread = self._rng.uniform(0, self._interval_s)
        try:
            previous, _ = await self._store.read(deployment_id)
        except NATS_FAILURES:
            return spread
        if previous is None or not previous.HasField("checked_at"):
            return spread
        since = (datetime.now(UTC) - to_datetime(previous.checked_at)).total_seconds()
        due = self._interval_s - since
        # An overdue deployment (the service was down) joins the spread rather than firing at once.
        return due if 0 < due <= self._interval_s else spread

    async def _stopped_within(self, delay: float) -> bool:
        try:
            await asyncio.wait_for(self._stopping.wait(), timeout=delay)
        except TimeoutError:
            return False
        return True

    async def _retire(self, loops: Mapping[str, asyncio.Task[None]]) -> None:
        """Stop the loops of removed deployments, then delete every record no longer configured.

        Records are deleted only after the loops have ended, so an in-flight write cannot
        recreate a record just deleted. Deleting every orphan, not only `loops`, also clears
        deployments removed while this service was down.
        """
        for loop in loops.values():
            loop.cancel()
        if loops:
            await asyncio.wait(loops.values())
        try:
            for deployment_id in loops:
                self._metrics.forget(deployment_id)
                await self._ownership.release(deployment_id)
            # The targets as of now, not of the call: a newer snapshot may have re-added one. The
            # retired ones are named, not only looked up: a KV key listing taken while the
            # bucket is being written can miss a key (seen once under load in CI).
            orphans = (await self._store.deployment_ids() | loops.keys()) - self._targets.keys()
            for deployment_id in orphans:
                await self._store.remove(deployment_id)
        except NATS_FAILURES as exc:
            log.warning("could not remove the health of removed deployments: %s", exc)
            return
        if orphans:
            log.info(
                "removed the health of deployments no longer configured",
                extra={"deployment_ids": sorted(orphans)},
            )


async def _first_of(*events: asyncio.Event) -> None:
    waiters = [asyncio.create_task(e.wait()) for e in events]
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()


def _log_transition(before: HealthStatus.ValueType | None, health: DeploymentHealth) -> None:
    if before == health.status:
        return
    last = health.recent[-1]
    extra = {
        "deployment_id": health.deployment_id,
        "status": HealthStatus.Name(health.status),
        "status_code": last.status_code,
        "error": last.error,
    }
    if health.status == HEALTH_STATUS_UNHEALTHY:
        extra["cooldown_until"] = to_datetime(health.cooldown_until).isoformat()
        log.warning("deployment turned unhealthy", extra=extra)
    else:
        log.info("deployment health changed", extra=extra)
