"""Resolving a key digest to its KeyRecord: cache first, then the key store (Redis).

`KeyResolver` serves from `KeyCache`, coalesces concurrent lookups of one digest into a single
store call, and caches unknown digests briefly. `RedisKeyStore` reads `gw:key:{digest}` (a
serialized KeyRecord written by control). Invalidations arrive on core NATS subject
`gateway.keys.invalidate` (`KeyInvalidation`) and drop entries at once; after a NATS reconnect
the whole cache is dropped, because invalidations sent meanwhile were missed.

The `KeyStore` protocol is the seam for issue 4: a store that asks control on a Redis miss.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Callable
from typing import Protocol

import redis.asyncio as aioredis
from gateway_common.names import redis_key_record
from gateway_proto.v1.keys_pb2 import KeyInvalidation, KeyRecord
from google.protobuf.message import DecodeError
from nats.aio.msg import Msg
from redis.exceptions import RedisError

from gateway_proxy.key_cache import KeyCache

log = logging.getLogger(__name__)

# Returns the NATS client's reconnect count, or None while it has never connected.
NatsStats = Callable[[], int | None]


class KeyStoreUnavailable(Exception):
    """The key store could not be asked (Redis down or too slow)."""


class KeyStore(Protocol):
    """Where key records live; `fetch` returns None for a digest that has no record."""

    async def fetch(self, digest: str) -> KeyRecord | None:
        """Read the record for `digest`; raise KeyStoreUnavailable when the store cannot answer."""
        ...


class RedisKeyStore:
    """Key records in Redis at `gw:key:{digest}`."""

    def __init__(self, redis: aioredis.Redis) -> None:
        self._redis = redis

    async def fetch(self, digest: str) -> KeyRecord | None:
        """GET the record; a corrupt value is logged and treated as no record."""
        try:
            raw = await self._redis.get(redis_key_record(digest))
        except (RedisError, OSError) as exc:
            raise KeyStoreUnavailable(str(exc)) from exc
        if raw is None:
            return None
        if isinstance(raw, str):  # only when a client was built with decode_responses
            raw = raw.encode()
        record = KeyRecord()
        try:
            record.ParseFromString(raw)
        except DecodeError:
            log.error("corrupt key record in Redis", extra={"digest": digest})
            return None
        # The lookup was by digest already; comparing in constant time guards a mis-filed record.
        if not hmac.compare_digest(record.digest, digest):
            log.error("key record digest does not match its Redis key", extra={"digest": digest})
            return None
        return record


class KeyResolver:
    """Digest -> KeyRecord through the cache, one store call per digest at a time."""

    def __init__(self, cache: KeyCache, store: KeyStore) -> None:
        self.cache = cache
        self._store = store
        self._inflight: dict[str, asyncio.Future[KeyRecord | None]] = {}

    async def resolve(self, digest: str) -> KeyRecord | None:
        """The record for `digest`, or None when no such key exists.

        Raises KeyStoreUnavailable when the record is not cached and the store is down.
        """
        record = self.cache.get(digest)
        if record is not None:
            return record
        if self.cache.is_known_unknown(digest):
            return None
        pending = self._inflight.get(digest)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[KeyRecord | None] = asyncio.get_running_loop().create_future()
        self._inflight[digest] = future
        generation = self.cache.generation
        try:
            record = await self._store.fetch(digest)
        except BaseException as exc:
            if isinstance(exc, Exception):
                future.set_exception(exc)
                # Waiters re-raise it; mark it retrieved so an unawaited future does not warn.
                future.exception()
            else:
                future.cancel()
            raise
        else:
            self.cache.put(digest, record, generation)
            future.set_result(record)
            return record
        finally:
            del self._inflight[digest]

    async def on_invalidation(self, msg: Msg) -> None:
        """NATS callback for `gateway.keys.invalidate`: drop the named entries now."""
        invalidation = KeyInvalidation()
        try:
            invalidation.ParseFromString(msg.data)
        except DecodeError:
            log.error("undecodable key invalidation; dropping the whole key cache")
            self.cache.clear()
            return
        self.cache.invalidate(digest=invalidation.digest, key_id=invalidation.key_id)
        log.debug("key cache invalidated", extra={"key_id": invalidation.key_id})


async def clear_on_reconnect(nats_stats: NatsStats, cache: KeyCache, interval_s: float = 0.5) -> None:
    """Drop the key cache whenever the NATS client has reconnected (run in the task group).

    Invalidations published while this proxy was cut off from NATS were lost, so every
    cached record is suspect after a reconnect; re-reading them from Redis is cheap.
    """
    seen: int | None = None
    while True:
        reconnects = nats_stats()
        if reconnects is not None:
            if seen is not None and reconnects != seen:
                log.warning("NATS reconnected; dropping the key cache (invalidations may have been missed)")
                cache.clear()
            seen = reconnects
        await asyncio.sleep(interval_s)
