"""Following the ConfigSnapshot in NATS KV: the data plane's only source of configuration.

`SnapshotFollower` reads the current snapshot when NATS connects, then watches the key and also
polls it (a watch can be lost across a server restart; a poll every few seconds cannot). A
snapshot with a schema_version this build does not understand is refused and the previous one
kept, as is a revision older than the one held. The last good snapshot survives a NATS outage.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from gateway_proto.v1.config_pb2 import ConfigSnapshot
from nats.js.errors import BucketNotFoundError, KeyNotFoundError, NoKeysError
from nats.js.kv import KeyValue

from gateway_common.names import CONFIG_BUCKET, CONFIG_KEY, SNAPSHOT_SCHEMA_VERSION
from gateway_common.nats import NatsConnection, ensure_bucket

log = logging.getLogger(__name__)

OnSnapshot = Callable[[ConfigSnapshot], None]


class SnapshotFollower:
    """Keeps the newest acceptable snapshot and calls `on_snapshot` for each one applied."""

    def __init__(self, nats: NatsConnection, on_snapshot: OnSnapshot, poll_interval_s: float = 2.0) -> None:
        self._nats = nats
        self._on_snapshot = on_snapshot
        self._poll_interval_s = poll_interval_s
        self.current: ConfigSnapshot | None = None
        self.refused_revisions: list[int] = []

    def offer(self, data: bytes) -> bool:
        """Apply a serialized snapshot if it is valid, understood and newer; return whether applied."""
        snapshot = ConfigSnapshot()
        try:
            snapshot.ParseFromString(data)
        except Exception:  # protobuf's DecodeError; a corrupt value must not stop the follower
            log.exception("refused an undecodable config snapshot")
            return False
        if snapshot.schema_version != SNAPSHOT_SCHEMA_VERSION:
            self.refused_revisions.append(snapshot.revision)
            log.error(
                "refused config snapshot with unknown schema_version; keeping the current one",
                extra={"schema_version": snapshot.schema_version, "revision": snapshot.revision},
            )
            return False
        if self.current is not None and snapshot.revision <= self.current.revision:
            return False
        self.current = snapshot
        self._on_snapshot(snapshot)
        log.info("applied config snapshot", extra={"revision": snapshot.revision})
        return True

    async def run(self) -> None:
        """Follow the snapshot forever (run it in the service's task group)."""
        await self._nats.wait_connected(timeout=float("inf"))
        watch_task = asyncio.create_task(self._watch_forever())
        try:
            while True:
                await self._poll_once()
                await asyncio.sleep(self._poll_interval_s)
        finally:
            watch_task.cancel()

    async def _bucket(self) -> KeyValue:
        js = self._nats.jetstream
        try:
            return await js.key_value(CONFIG_BUCKET)
        except BucketNotFoundError:
            await ensure_bucket(js, CONFIG_BUCKET, history=5)
            return await js.key_value(CONFIG_BUCKET)

    async def _poll_once(self) -> None:
        if not self._nats.connected:
            return
        try:
            entry = await (await self._bucket()).get(CONFIG_KEY)
        except KeyNotFoundError:
            return
        except (TimeoutError, OSError, ConnectionError) as exc:
            log.warning("config snapshot poll failed: %s", exc)
            return
        if entry.value:
            self.offer(entry.value)

    async def _watch_forever(self) -> None:
        while True:
            try:
                watcher = await (await self._bucket()).watch(CONFIG_KEY)
                try:
                    async for entry in watcher:
                        if entry is not None and entry.value:
                            self.offer(entry.value)
                finally:
                    await watcher.stop()  # type: ignore[no-untyped-call]
            except (TimeoutError, OSError, ConnectionError, NoKeysError) as exc:
                log.warning("config snapshot watch lost, re-watching: %s", exc)
            await asyncio.sleep(1.0)
