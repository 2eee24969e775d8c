"""The health service's verdicts as the proxy routes on them: `HealthWatch`.

The health service writes one `DeploymentHealth` per deployment into NATS KV `gateway_health`;
the proxy mirrors the bucket with a KV watch (gateway_common's `KvMirror`), so a change reaches
routing within milliseconds of the write. Deployments whose status is UNHEALTHY are kept in
`unhealthy`, which routing moves behind every other candidate (tried only as a last resort,
so a wrong verdict can never make a model unavailable). Without NATS, the last view stays.
"""

from __future__ import annotations

from gateway_common.kv_mirror import KvMirror, proto_decoder
from gateway_common.names import HEALTH_BUCKET
from gateway_common.nats import NatsConnection, ensure_bucket
from gateway_proto.v1.health_pb2 import DeploymentHealth, HealthStatus
from nats.js.kv import KeyValue


class HealthWatch:
    """Mirrors `gateway_health`; `unhealthy` is the set of deployment ids to avoid."""

    def __init__(self, nats: NatsConnection, *, resync_s: float) -> None:
        self._nats = nats
        self.unhealthy: frozenset[str] = frozenset()
        self._mirror = KvMirror(
            nats,
            self._bucket,
            proto_decoder(DeploymentHealth),
            resync_s=resync_s,
            on_change=self._recompute,
        )

    async def run(self) -> None:
        """Follow the bucket forever (a lifespan background task)."""
        await self._mirror.run()

    async def _bucket(self) -> KeyValue:
        js = self._nats.jetstream
        await ensure_bucket(js, HEALTH_BUCKET)
        return await js.key_value(HEALTH_BUCKET)

    def _recompute(self) -> None:
        self.unhealthy = frozenset(
            key
            for key, health in self._mirror.records.items()
            if health.status == HealthStatus.HEALTH_STATUS_UNHEALTHY
        )
