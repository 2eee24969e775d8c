"""In-process cache of key records: bounded, with a TTL, a negative cache and invalidation.

Positive entries live `ttl_s` (30 s by default), unknown digests `negative_ttl_s` (a few
seconds) so a flood of bad keys does not reach Redis. Both maps are bounded and evict the
oldest insertion first; entries expire long before FIFO order matters.

An expired entry is kept for `stale_s` more seconds: `get` no longer returns it, but
`get_stale` does, for the resolver to use while the key store (Redis and control) cannot answer.
Invalidations drop it like any entry, so a revoke still wins.

A fetch that started before an invalidation must not re-insert the stale record it read, so
every invalidation bumps `generation` and `put` refuses results older than the last bump.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from gateway_proto.v1.keys_pb2 import KeyRecord

Clock = Callable[[], float]
V = TypeVar("V")


@dataclass(frozen=True, slots=True)
class CachedKey:
    """A cached record and when it stops being trusted (monotonic seconds)."""

    record: KeyRecord
    expires_at: float


class KeyCache:
    """Digest -> KeyRecord with TTL, plus a negative set of digests known to be unknown."""

    def __init__(
        self,
        *,
        ttl_s: float,
        max_entries: int,
        negative_ttl_s: float,
        max_negative: int,
        stale_s: float = 0.0,
        clock: Clock = time.monotonic,
    ) -> None:
        self._ttl_s = ttl_s
        self._stale_s = stale_s
        self._max_entries = max_entries
        self._negative_ttl_s = negative_ttl_s
        self._max_negative = max_negative
        self._clock = clock
        self._entries: dict[str, CachedKey] = {}
        self._negative: dict[str, float] = {}
        self._digest_by_key_id: dict[str, str] = {}
        self.generation = 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, digest: str) -> KeyRecord | None:
        """The cached record for `digest` if present and fresh."""
        entry = self._entries.get(digest)
        if entry is None:
            return None
        now = self._clock()
        if entry.expires_at <= now:
            if entry.expires_at + self._stale_s <= now:
                self._drop(digest)
            return None
        return entry.record

    def get_stale(self, digest: str) -> KeyRecord | None:
        """The record for `digest` even if expired, as long as it is within the stale window."""
        entry = self._entries.get(digest)
        if entry is None or entry.expires_at + self._stale_s <= self._clock():
            return None
        return entry.record

    def is_known_unknown(self, digest: str) -> bool:
        """Whether `digest` was looked up recently and did not exist."""
        until = self._negative.get(digest)
        if until is None:
            return False
        if until <= self._clock():
            del self._negative[digest]
            return False
        return True

    def put(self, digest: str, record: KeyRecord | None, generation: int) -> bool:
        """Cache a fetch result (None = unknown digest) unless invalidated since `generation`."""
        if generation != self.generation:
            return False
        now = self._clock()
        if record is None:
            if self._negative_ttl_s <= 0:
                return False
            _bounded_insert(self._negative, digest, now + self._negative_ttl_s, self._max_negative)
            return True
        self._negative.pop(digest, None)
        evicted = _bounded_insert(
            self._entries, digest, CachedKey(record, now + self._ttl_s), self._max_entries
        )
        if evicted is not None:
            evicted_digest, evicted_entry = evicted
            if self._digest_by_key_id.get(evicted_entry.record.key_id) == evicted_digest:
                del self._digest_by_key_id[evicted_entry.record.key_id]
        if record.key_id:
            self._digest_by_key_id[record.key_id] = digest
        return True

    def invalidate(self, *, digest: str = "", key_id: str = "") -> None:
        """Drop what is cached for a digest and/or key id; both empty drops everything."""
        self.generation += 1
        if not digest and not key_id:
            self.clear()
            return
        if key_id:
            by_id = self._digest_by_key_id.get(key_id)
            if by_id is not None:
                self._drop(by_id)
        if digest:
            self._drop(digest)
            self._negative.pop(digest, None)

    def clear(self) -> None:
        """Drop every entry (e.g. after a NATS reconnect, when invalidations may have been missed)."""
        self.generation += 1
        self._entries.clear()
        self._negative.clear()
        self._digest_by_key_id.clear()

    def _drop(self, digest: str) -> None:
        entry = self._entries.pop(digest, None)
        if entry is not None and self._digest_by_key_id.get(entry.record.key_id) == digest:
            del self._digest_by_key_id[entry.record.key_id]


def _bounded_insert(store: dict[str, V], key: str, value: V, limit: int) -> tuple[str, V] | None:
    """Insert (re-inserting moves the key to the newest end); evict the oldest when over `limit`.

    Returns the evicted (key, value), if any.
    """
    store.pop(key, None)
    store[key] = value
    if len(store) > limit:
        oldest = next(iter(store))
        return oldest, store.pop(oldest)
    return None
