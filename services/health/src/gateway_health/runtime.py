"""The running service: every long-lived part, wired together, started and drained in order.

Startup (`start`): connect to NATS in the background (the service starts, and reports
not-ready, while NATS is down), bind the gRPC server, then run the snapshot follower, the KV
view and the probe scheduler in the lifespan's task group. Shutdown (`stop`): let in-flight
probes finish and publish, stop gRPC with a short grace, stop the followers, close HTTP and
drain NATS.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from dataclasses import dataclass, field

import grpc
import httpx
from gateway_common.nats import NatsConnection
from gateway_common.readiness import Readiness
from gateway_common.snapshots import SnapshotFollower
from gateway_proto.v1.config_pb2 import ConfigSnapshot

from gateway_health.grpc_server import start_grpc_server
from gateway_health.lease import KvLeaseOwnership
from gateway_health.metrics import HealthMetrics
from gateway_health.ownership import Ownership
from gateway_health.prober import Prober
from gateway_health.scheduler import ProbeScheduler
from gateway_health.settings import HealthSettings
from gateway_health.store import HealthStore
from gateway_health.targets import targets_from_snapshot
from gateway_health.verdict import HealthRules
from gateway_health.view import HealthView

log = logging.getLogger(__name__)

_GRPC_GRACE_S = 2.0


@dataclass
class HealthRuntime:
    """The service's state: built by `create`, started and stopped by the app lifespan."""

    settings: HealthSettings
    nats: NatsConnection
    store: HealthStore
    view: HealthView
    follower: SnapshotFollower
    scheduler: ProbeScheduler
    metrics: HealthMetrics
    http: httpx.AsyncClient
    readiness: Readiness
    grpc_server: grpc.aio.Server | None = None
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    @classmethod
    def create(cls, settings: HealthSettings, ownership: Ownership | None = None) -> HealthRuntime:
        """Wire every part from settings; no I/O happens until `start`."""
        nats = NatsConnection(
            settings.nats_url,
            name=f"gateway-health-{_instance(settings)}",
            stream_replicas=settings.nats_stream_replicas,
        )
        store = HealthStore(nats)
        metrics = HealthMetrics()
        http = httpx.AsyncClient(follow_redirects=False)
        if ownership is None:
            ownership = KvLeaseOwnership(nats, _instance(settings), settings.lease_ttl_s)
        scheduler = ProbeScheduler(
            nats=nats,
            store=store,
            prober=Prober(http, settings.health_probe_timeout_s),
            ownership=ownership,
            rules=HealthRules(
                settings.health_window,
                settings.health_unhealthy_after,
                settings.cooldown,
                history=settings.health_history,
            ),
            metrics=metrics,
            interval_s=settings.health_probe_interval_s,
            jitter=settings.health_probe_jitter,
            instance=_instance(settings),
        )
        keys = settings.dataplane_keys()

        def on_snapshot(snapshot: ConfigSnapshot) -> None:
            scheduler.update_targets(targets_from_snapshot(snapshot, keys))

        follower = SnapshotFollower(nats, on_snapshot)
        view = HealthView(nats, store, settings.health_view_resync_s)
        runtime = cls(settings, nats, store, view, follower, scheduler, metrics, http, Readiness())
        runtime.readiness.add("nats", runtime._nats_connected)
        runtime.readiness.add("config_snapshot", runtime._has_snapshot)
        runtime.readiness.add("health_view", runtime._view_synced)
        return runtime

    async def start(self, group: asyncio.TaskGroup) -> None:
        """Start connecting, bind gRPC and launch the background loops in `group`."""
        self.nats.start()
        self.grpc_server = await start_grpc_server(
            self.settings.health_host, self.settings.health_grpc_port, self.view
        )
        for name, work in (
            ("snapshot-follower", self.follower.run()),
            ("health-view", self.view.run()),
            ("probe-scheduler", self.scheduler.run()),
        ):
            self._tasks.append(group.create_task(work, name=name))

    async def stop(self) -> None:
        """Drain: finish in-flight probes, stop gRPC, the loops, HTTP and NATS (in that order)."""
        await self.scheduler.stop()
        scheduler_task = next((t for t in self._tasks if t.get_name() == "probe-scheduler"), None)
        if scheduler_task is not None:
            # A probe takes at most its timeout; publishing it a moment more.
            done, _ = await asyncio.wait([scheduler_task], timeout=self.settings.health_probe_timeout_s + 5)
            if not done:
                log.warning("probes did not finish in time; cancelling them")
        if self.grpc_server is not None:
            await self.grpc_server.stop(_GRPC_GRACE_S)
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            # The task group reports any task that failed; here we only wait for them to end.
            await asyncio.wait(self._tasks)
        await self.http.aclose()
        await self.nats.close()
        log.info("health service stopped")

    async def _nats_connected(self) -> bool:
        return self.nats.connected

    async def _has_snapshot(self) -> bool:
        return self.follower.current is not None

    async def _view_synced(self) -> bool:
        return self.view.synced


def _instance(settings: HealthSettings) -> str:
    """This replica's name in DeploymentHealth.prober: INSTANCE_ID, else host and pid."""
    return settings.instance_id or f"{socket.gethostname()}-{os.getpid()}"
