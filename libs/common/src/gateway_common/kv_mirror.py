"""An in-memory mirror of a NATS KV bucket, kept current by a watch: `KvMirror`.

A KV watch delivers the current value of every key, then each change as it happens (within
milliseconds of the write). The watch is re-created every `resync_s`, which rebuilds the mirror
from scratch: a watch's consumer can be lost silently across a NATS server restart, a rebuild
cannot. Readers see either the old or the rebuilt mapping, swapped in one assignment.

Used by the health service (to answer gRPC from the `gateway_health` bucket whoever probed) and
by the proxy (to stop routing to a deployment the probes marked unhealthy).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Generic, TypeVar

import nats.errors
from google.protobuf.message import DecodeError, Message
from nats.js.kv import KeyValue

from gateway_common.nats import NatsConnection

log = logging.getLogger(__name__)

T = TypeVar("T")
M = TypeVar("M", bound=Message)

# What a KV call raises when NATS is down, slow or the bucket vanished: retry later, never crash.
NATS_FAILURES: tuple[type[Exception], ...] = (nats.errors.Error, OSError, ConnectionError, TimeoutError)
_DELETE_OPERATIONS = frozenset({"DEL", "PURGE"})

Decode = Callable[[str, bytes | None], T | None]


def proto_decoder(message_type: type[M]) -> Decode[M]:
    """A decoder for values that are serialized `message_type`; corrupt ones are logged and skipped."""

    def decode(key: str, value: bytes | None) -> M | None:
        if not value:
            return None
        try:
            return message_type.FromString(value)
        except DecodeError:
            log.error("undecodable %s in KV", message_type.__name__, extra={"key": key})
            return None

    return decode


class KvMirror(Generic[T]):
    """Key -> decoded value of one bucket; `on_change` hears of every applied change."""

    def __init__(
        self,
        nats: NatsConnection,
        bucket: Callable[[], Awaitable[KeyValue]],
        decode: Decode[T],
        *,
        resync_s: float,
        on_change: Callable[[], None] | None = None,
        forget_bucket: Callable[[], None] | None = None,
    ) -> None:
        self._nats = nats
        self._bucket = bucket
        self._decode = decode
        self._resync_s = resync_s
        self._on_change = on_change
        self._forget_bucket = forget_bucket
        self._records: dict[str, T] = {}
        self._synced = asyncio.Event()

    @property
    def records(self) -> Mapping[str, T]:
        """The current mapping (read-only view; replaced whole on each rebuild)."""
        return self._records

    @property
    def synced(self) -> bool:
        """Whether the mirror has been loaded from the bucket at least once."""
        return self._synced.is_set()

    async def wait_synced(self, timeout: float) -> None:
        """Wait for the first complete load of the bucket."""
        await asyncio.wait_for(self._synced.wait(), timeout)

    async def run(self) -> None:
        """Mirror the bucket forever (run it in the service's task group)."""
        await self._nats.wait_connected(timeout=float("inf"))
        while True:
            try:
                await self._follow(await self._bucket())
            except NATS_FAILURES as exc:
                log.warning("KV mirror lost its bucket, retrying: %s", exc)
                if self._forget_bucket is not None:
                    self._forget_bucket()
                await asyncio.sleep(1.0)

    async def _follow(self, kv: KeyValue) -> None:
        """Load every key, then apply changes until it is time to rebuild."""
        watcher = await kv.watchall()
        fresh: dict[str, T] | None = {}
        try:
            async with asyncio.timeout(self._resync_s) as scope:
                async for entry in watcher:
                    if entry is None:
                        # The end of the initial values: swap the rebuilt mirror in at once.
                        if fresh is not None:
                            self._records, fresh = fresh, None
                            self._synced.set()
                            self._changed()
                        continue
                    self._apply(self._records if fresh is None else fresh, entry)
                    if fresh is None:
                        self._changed()
        except TimeoutError:
            if not scope.expired():
                raise
        finally:
            await watcher.stop()  # type: ignore[no-untyped-call]  # nats-py leaves it unannotated

    def _apply(self, records: dict[str, T], entry: KeyValue.Entry) -> None:
        if entry.operation in _DELETE_OPERATIONS:
            records.pop(entry.key, None)
            return
        value = self._decode(entry.key, entry.value)
        if value is not None:
            records[entry.key] = value

    def _changed(self) -> None:
        if self._on_change is not None:
            self._on_change()
