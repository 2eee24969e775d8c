"""The in-memory view of the `gateway_health` bucket that the gRPC service answers from.

It is built from the bucket, not from this replica's own probes, so every replica answers the
same whoever probed. A KV watch delivers the current value of every key and then each change;
the watch is re-created every HEALTH_VIEW_RESYNC_S, which rebuilds the view from scratch —
a watch's consumer can be lost silently across a NATS server restart, a rebuild cannot.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

from gateway_common.nats import NatsConnection
from gateway_proto.v1.health_pb2 import DeploymentHealth
from nats.js.kv import KeyValue

from gateway_health.store import NATS_FAILURES, HealthStore, decode_health

log = logging.getLogger(__name__)

_DELETE_OPERATIONS = frozenset({"DEL", "PURGE"})


class HealthView:
    """Deployment id -> latest DeploymentHealth, mirrored from the KV bucket."""

    def __init__(self, nats: NatsConnection, store: HealthStore, resync_s: float) -> None:
        self._nats = nats
        self._store = store
        self._resync_s = resync_s
        self._records: dict[str, DeploymentHealth] = {}
        self._synced = asyncio.Event()

    @property
    def synced(self) -> bool:
        """Whether the view has been loaded from the bucket at least once."""
        return self._synced.is_set()

    async def wait_synced(self, timeout: float) -> None:
        """Wait for the first complete load of the bucket."""
        await asyncio.wait_for(self._synced.wait(), timeout)

    def select(self, deployment_ids: Iterable[str] = ()) -> list[DeploymentHealth]:
        """The records of `deployment_ids` in that order (empty: all, sorted by id).

        A requested id without a record comes back with status UNSPECIFIED, so callers see
        every deployment they asked about.
        """
        wanted = list(deployment_ids)
        if not wanted:
            return [self._records[k] for k in sorted(self._records)]
        return [self._records.get(i) or DeploymentHealth(deployment_id=i) for i in wanted]

    async def run(self) -> None:
        """Mirror the bucket forever (run it in the service's task group)."""
        await self._nats.wait_connected(timeout=float("inf"))
        while True:
            try:
                await self._follow(await self._store.bucket())
            except NATS_FAILURES as exc:
                log.warning("health view lost the KV bucket, retrying: %s", exc)
                self._store.forget_bucket()
                await asyncio.sleep(1.0)

    async def _follow(self, kv: KeyValue) -> None:
        """Load every key, then apply changes until it is time to rebuild."""
        watcher = await kv.watchall()
        fresh: dict[str, DeploymentHealth] | None = {}
        try:
            async with asyncio.timeout(self._resync_s) as scope:
                async for entry in watcher:
                    if entry is None:
                        # The end of the initial values: swap the rebuilt view in at once.
                        if fresh is not None:
                            self._records, fresh = fresh, None
                            self._synced.set()
                        continue
                    _apply(self._records if fresh is None else fresh, entry)
        except TimeoutError:
            if not scope.expired():
                raise
        finally:
            await watcher.stop()  # type: ignore[no-untyped-call]  # nats-py leaves it unannotated


def _apply(records: dict[str, DeploymentHealth], entry: KeyValue.Entry) -> None:
    if entry.operation in _DELETE_OPERATIONS:
        records.pop(entry.key, None)
        return
    health = decode_health(entry.key, entry.value)
    if health is not None:
        records[entry.key] = health
