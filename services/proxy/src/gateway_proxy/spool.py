"""The on-disk usage spool: where usage events wait while NATS is unreachable.

Layout: `USAGE_SPOOL_DIR/slot-<n>/` per process, each held with an exclusive `flock` on its
`lock` file for the life of the process (Granian workers and proxies sharing a volume each get
their own slot; the kernel drops the lock when a process dies, even by SIGKILL). A slot holds
append-only segment files `seg-<seq>.spool`, each a sequence of records

    length (uint32, big endian) | crc32 of the payload (uint32) | payload (a serialized UsageEvent)

Appends are written and fsynced in batches (one fsync per publisher batch, off the event loop):
once `append` returns, the events survive a crash. A record torn by a crash mid-write fails its
length or CRC check and ends the segment's replay (it was never acknowledged as spooled).

Replay reads whole segments, oldest first; the active segment is sealed first, so appends and
replay never touch the same file. A segment whose every event JetStream acknowledged is deleted.
At startup a process also adopts the segments of slots no live process holds (a killed proxy's,
or a worker slot no longer used), so nothing spooled is stranded.

The spool is bounded by `USAGE_SPOOL_MAX_BYTES`: past `ALERT_RATIO` of it an error is logged
(once per crossing) and `gateway_proxy_usage_spool_bytes` / `..._limit_bytes` let Prometheus
alert; an event that does not fit is refused and counted as dropped.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from gateway_proto.v1.usage_pb2 import UsageEvent
from google.protobuf.message import DecodeError
from prometheus_client import CollectorRegistry, Counter, Gauge

log = logging.getLogger(__name__)

ALERT_RATIO = 0.8
_HEADER = struct.Struct(">II")
_MAX_RECORD = 16 * 1024 * 1024
_MAX_SLOTS = 1024
_SEGMENT_GLOB = "seg-*.spool"


@dataclass(frozen=True, slots=True)
class SpooledEvent:
    """A serialized UsageEvent and its request id (the Nats-Msg-Id of its publish)."""

    request_id: str
    payload: bytes


class SpoolMetrics:
    """The spool's gauges and counters, registered in the proxy's registry."""

    def __init__(self, registry: CollectorRegistry, max_bytes: int) -> None:
        self.bytes = Gauge(
            "gateway_proxy_usage_spool_bytes", "Bytes of usage events on disk.", registry=registry
        )
        self.limit = Gauge(
            "gateway_proxy_usage_spool_limit_bytes",
            "USAGE_SPOOL_MAX_BYTES of this process.",
            registry=registry,
        )
        self.limit.set(max_bytes)
        self.events = Counter(
            "gateway_proxy_usage_spool_events",
            "Usage events by spool outcome: spooled, replayed, dropped (spool full), corrupt.",
            ["outcome"],
            registry=registry,
        )
        # Exported at 0 from the start (also with several workers, where a series exists only
        # once touched), so alerts and rate() see the series before the first outage.
        for outcome in ("spooled", "replayed", "dropped", "corrupt"):
            self.events.labels(outcome)


def encode_record(payload: bytes) -> bytes:
    """One spool record: length, CRC32, payload."""
    return _HEADER.pack(len(payload), zlib.crc32(payload)) + payload


def decode_records(data: bytes) -> tuple[list[SpooledEvent], int]:
    """The intact records at the start of `data`, and how many bytes after them were unreadable."""
    events: list[SpooledEvent] = []
    offset = 0
    while offset + _HEADER.size <= len(data):
        length, crc = _HEADER.unpack_from(data, offset)
        start = offset + _HEADER.size
        payload = data[start : start + length]
        if length > _MAX_RECORD or len(payload) != length or zlib.crc32(payload) != crc:
            break
        try:
            request_id = UsageEvent.FromString(payload).request_id
        except DecodeError:
            break
        events.append(SpooledEvent(request_id, payload))
        offset = start + length
    return events, len(data) - offset


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _try_lock(path: Path) -> IO[bytes] | None:
    handle = path.open("ab")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return None
    return handle


def _segment_seq(path: Path) -> int:
    return int(path.stem.removeprefix("seg-"))


class UsageSpool:
    """One process's slot of the spool directory; see the module docstring."""

    def __init__(
        self, slot: Path, lock: IO[bytes], *, max_bytes: int, segment_bytes: int, metrics: SpoolMetrics
    ):
        self._slot = slot
        self._lock_handle = lock
        self._max_bytes = max_bytes
        self._segment_bytes = segment_bytes
        self._metrics = metrics
        self._io_lock = asyncio.Lock()
        self._active: IO[bytes] | None = None
        self._active_path: Path | None = None
        self._active_size = 0
        segments = self._segments()
        self._next_seq = (_segment_seq(segments[-1]) + 1) if segments else 1
        self._bytes = sum(p.stat().st_size for p in segments)
        self._alerting = False
        self._update_size(0)

    @classmethod
    def open(
        cls, root: Path, *, max_bytes: int, registry: CollectorRegistry, segment_bytes: int = 4 * 1024 * 1024
    ) -> UsageSpool:
        """Claim a free slot under `root`, adopt orphaned slots' segments, and report the backlog."""
        root.mkdir(parents=True, exist_ok=True)
        for n in range(_MAX_SLOTS):
            slot = root / f"slot-{n}"
            slot.mkdir(exist_ok=True)
            lock = _try_lock(slot / "lock")
            if lock is not None:
                break
        else:
            raise OSError(f"no free usage spool slot under {root}")
        _adopt_orphans(root, slot)
        spool = cls(
            slot,
            lock,
            max_bytes=max_bytes,
            segment_bytes=segment_bytes,
            metrics=SpoolMetrics(registry, max_bytes),
        )
        if spool.size_bytes:
            log.warning(
                "usage spool holds events from before this start; replaying them when NATS is reachable",
                extra={"spool_bytes": spool.size_bytes, "spool_slot": str(slot)},
            )
        return spool

    @property
    def size_bytes(self) -> int:
        """Bytes of events on disk (replayed segments excluded)."""
        return self._bytes

    @property
    def slot(self) -> Path:
        """The directory this process owns."""
        return self._slot

    async def append(self, events: Sequence[SpooledEvent]) -> list[SpooledEvent]:
        """Write and fsync `events`; return those refused because the spool is full."""
        async with self._io_lock:
            records: list[bytes] = []
            refused: list[SpooledEvent] = []
            room = self._max_bytes - self._bytes
            for event in events:
                record = encode_record(event.payload)
                if len(record) > room:
                    refused.append(event)
                    continue
                room -= len(record)
                records.append(record)
            if records:
                try:
                    written = await asyncio.to_thread(self._write, b"".join(records))
                except OSError as exc:
                    # Disk full, directory removed...: the caller keeps the events in memory.
                    self._seal()
                    log.error("usage spool write failed: %s", exc, extra={"spool_slot": str(self._slot)})
                    return list(events)
                self._metrics.events.labels("spooled").inc(len(records))
                self._update_size(written)
        if refused:
            self._metrics.events.labels("dropped").inc(len(refused))
            log.error(
                "usage spool full; usage events dropped",
                extra={
                    "dropped_events": len(refused),
                    "spool_bytes": self._bytes,
                    "spool_max_bytes": self._max_bytes,
                },
            )
        return refused

    async def sealed_segments(self) -> list[Path]:
        """Seal the segment being written, then list every segment, oldest first."""
        async with self._io_lock:
            self._seal()
            return self._segments()

    async def read(self, segment: Path) -> list[SpooledEvent]:
        """The events of a sealed segment (a torn tail is logged and skipped)."""
        data = await asyncio.to_thread(segment.read_bytes)
        events, torn = decode_records(data)
        if torn:
            self._metrics.events.labels("corrupt").inc()
            log.warning(
                "usage spool segment has %d unreadable trailing bytes", torn, extra={"segment": str(segment)}
            )
        return events

    async def remove(self, segment: Path, replayed: int) -> None:
        """Delete a segment whose events were all acknowledged."""
        async with self._io_lock:
            size = await asyncio.to_thread(self._unlink, segment)
            self._metrics.events.labels("replayed").inc(replayed)
            self._update_size(-size)

    def close(self) -> None:
        """Close the active segment and release the slot (events stay on disk for the next start)."""
        self._seal()
        self._lock_handle.close()

    def _write(self, data: bytes) -> int:
        if self._active is None or self._active_size >= self._segment_bytes:
            self._seal()
            self._active_path = self._slot / f"seg-{self._next_seq:012d}.spool"
            self._next_seq += 1
            self._active = self._active_path.open("ab")
            self._active_size = 0
            _fsync_dir(self._slot)
        self._active.write(data)
        self._active.flush()
        os.fsync(self._active.fileno())
        self._active_size += len(data)
        return len(data)

    def _unlink(self, segment: Path) -> int:
        size = segment.stat().st_size
        segment.unlink()
        _fsync_dir(self._slot)
        return size

    def _seal(self) -> None:
        if self._active is not None:
            self._active.close()
            self._active = None
            self._active_path = None

    def _segments(self) -> list[Path]:
        return sorted(self._slot.glob(_SEGMENT_GLOB), key=_segment_seq)

    def _update_size(self, delta: int) -> None:
        self._bytes += delta
        self._metrics.bytes.set(self._bytes)
        near_limit = self._bytes >= ALERT_RATIO * self._max_bytes
        if near_limit and not self._alerting:
            log.error(
                "usage spool above %d%% of its limit: NATS has been unreachable for long",
                int(ALERT_RATIO * 100),
                extra={
                    "alert": "usage_spool_near_limit",
                    "spool_bytes": self._bytes,
                    "spool_max_bytes": self._max_bytes,
                },
            )
        self._alerting = near_limit


def _adopt_orphans(root: Path, own: Path) -> None:
    """Move the segments of slots no live process holds into `own`, after its own segments."""
    own_segments = sorted(own.glob(_SEGMENT_GLOB), key=_segment_seq)
    next_seq = (_segment_seq(own_segments[-1]) + 1) if own_segments else 1
    for slot in sorted(root.glob("slot-*")):
        if slot == own or not slot.is_dir():
            continue
        lock = _try_lock(slot / "lock")
        if lock is None:
            continue  # a live process owns it
        try:
            orphans = sorted(slot.glob(_SEGMENT_GLOB), key=_segment_seq)
            for segment in orphans:
                # A rename within one filesystem is atomic: the segment is in one slot or the other.
                segment.rename(own / f"seg-{next_seq:012d}.spool")
                next_seq += 1
            if orphans:
                _fsync_dir(own)
                _fsync_dir(slot)
                log.warning("adopted %d usage spool segments of %s", len(orphans), slot)
        finally:
            lock.close()
