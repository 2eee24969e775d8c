"""The in-memory view of the `gateway_health` bucket that the gRPC service answers from.

It is built from the bucket, not from this replica's own probes, so every replica answers the
same whoever probed. The mirroring itself (watch, periodic rebuild) is gateway_common's
`KvMirror`; this module only answers selections from it.
"""

from __future__ import annotations

from collections.abc import Iterable

from gateway_common.kv_mirror import KvMirror
from gateway_common.nats import NatsConnection
from gateway_proto.v1.health_pb2 import DeploymentHealth

from gateway_health.store import HealthStore, decode_health


class HealthView(KvMirror[DeploymentHealth]):
    """Deployment id -> latest DeploymentHealth, mirrored from the KV bucket."""

    def __init__(self, nats: NatsConnection, store: HealthStore, resync_s: float) -> None:
        super().__init__(
            nats, store.bucket, decode_health, resync_s=resync_s, forget_bucket=store.forget_bucket
        )

    def select(self, deployment_ids: Iterable[str] = ()) -> list[DeploymentHealth]:
        """The records of `deployment_ids` in that order (empty: all, sorted by id).

        A requested id without a record comes back with status UNSPECIFIED, so callers see
        every deployment they asked about.
        """
        records = self.records
        wanted = list(deployment_ids)
        if not wanted:
            return [records[k] for k in sorted(records)]
        return [records.get(i) or DeploymentHealth(deployment_id=i) for i in wanted]
