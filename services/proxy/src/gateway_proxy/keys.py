"""Resolving a key digest to its KeyRecord: cache first, then the key store (Redis).

`KeyResolver` serves from `KeyCache`, coalesces concurrent lookups of one digest into a single
store call, and caches unknown digests briefly. `RedisKeyStore` reads `gw:key:{digest}` (a
serialized KeyRecord written by control). Invalidations arrive on core NATS subject
`gateway.keys.invalidate` (`KeyInvalidation`) and drop entries at once; after a NATS reconnect
the whole cache is dropped, because invalidations sent meanwhile were missed.

`FallbackKeyStore` asks control (`GET /internal/keys/{digest}`, Bearer INTERNAL_TOKEN) when
Redis has no record or cannot answer: Redis restarted empty or flushed, or a record not written
yet. The proxy writes nothing to Redis itself (control's reconciler re-populates it); the answer
is only cached in process. Because `KeyResolver` coalesces concurrent lookups of one digest and
negatively caches unknown ones, each digest costs at most one Redis GET and one control call per
`KEY_NEGATIVE_TTL_S`, however many requests present it.

When Redis is down, a key whose cached record expired less than `KEY_STALE_S` ago keeps working
from the cache (bounded staleness; invalidations still drop it at once).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Callable
from typing import Protocol

import httpx
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
        return parse_record(raw, digest, "Redis")


def parse_record(raw: bytes, digest: str, source: str) -> KeyRecord | None:
    """Decode a serialized KeyRecord and check it is the one for `digest` (constant time).

    A corrupt or mis-filed record is logged and treated as no record.
    """
    record = KeyRecord()
    try:
        record.ParseFromString(raw)
    except DecodeError:
        log.error("corrupt key record", extra={"digest": digest, "source": source})
        return None
    # The lookup was by digest already; comparing in constant time guards a mis-filed record.
    if not hmac.compare_digest(record.digest.encode(), digest.encode()):
        log.error("key record digest does not match its lookup", extra={"digest": digest, "source": source})
        return None
    return record


class ControlKeyStore:
    """Key records from control's internal endpoint `GET /internal/keys/{digest}`.

    200 carries the serialized KeyRecord (revoked keys included, flagged), 404 means no such
    key. Anything else, or no answer within the client's timeout, is KeyStoreUnavailable. At
    most `concurrency` calls run at once, so a flood of distinct unknown keys cannot turn into
    a flood on control.
    """

    def __init__(self, client: httpx.AsyncClient, internal_token: str, *, concurrency: int = 16) -> None:
        self._client = client
        self._headers = {"authorization": f"Bearer {internal_token}", "accept": "application/x-protobuf"}
        self._slots = asyncio.Semaphore(concurrency)

    async def fetch(self, digest: str) -> KeyRecord | None:
        """Ask control for the record; None when control says the digest is unknown."""
        async with self._slots:
            try:
                response = await self._client.get(f"/internal/keys/{digest}", headers=self._headers)
            except httpx.HTTPError as exc:
                raise KeyStoreUnavailable(f"control: {exc!r}") from exc
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise KeyStoreUnavailable(f"control answered {response.status_code}")
        return parse_record(response.content, digest, "control")


class FallbackKeyStore:
    """Redis first; control on a Redis miss or outage. Writes nothing to Redis.

    A Redis miss that control cannot confirm (control down) is KeyStoreUnavailable (503), not
    an unknown key (401): after Redis restarted empty, valid keys must not be refused.
    """

    def __init__(
        self, primary: KeyStore, fallback: KeyStore, count: Callable[[str], None] | None = None
    ) -> None:
        self._primary = primary
        self._fallback = fallback
        self._count = count or (lambda outcome: None)

    async def fetch(self, digest: str) -> KeyRecord | None:
        """The record from Redis, else from control; see the class docstring for failures."""
        try:
            record = await self._primary.fetch(digest)
        except KeyStoreUnavailable as exc:
            log.warning("Redis cannot answer a key lookup; asking control: %s", exc)
            self._count("redis_unavailable")
        else:
            if record is not None:
                return record
            self._count("redis_miss")
        return await self._fallback.fetch(digest)


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
            try:
                return await asyncio.shield(pending)
            except KeyStoreUnavailable as exc:
                return self._stale_or_raise(digest, exc)
        try:
            return await self._fetch(digest)
        except KeyStoreUnavailable as exc:
            return self._stale_or_raise(digest, exc)

    def _stale_or_raise(self, digest: str, exc: KeyStoreUnavailable) -> KeyRecord:
        """During a store outage, a recently expired record stays usable for the stale window."""
        stale = self.cache.get_stale(digest)
        if stale is None:
            raise exc
        log.warning("key store unavailable; serving a stale cached key record", extra={"digest": digest})
        return stale

    async def _fetch(self, digest: str) -> KeyRecord | None:
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


def build_key_store(
    redis: aioredis.Redis,
    control_url: str,
    internal_token: str,
    *,
    timeout_s: float,
    concurrency: int,
    count: Callable[[str], None] | None = None,
) -> tuple[KeyStore, httpx.AsyncClient | None]:
    """Redis alone, or Redis with control's fallback when CONTROL_URL and INTERNAL_TOKEN are set.

    Returns the store and the HTTP client it owns (for the lifespan to close), if any.
    """
    redis_store = RedisKeyStore(redis)
    if not control_url or not internal_token:
        log.warning("CONTROL_URL or INTERNAL_TOKEN unset: a key missing from Redis is refused as unknown")
        return redis_store, None
    client = httpx.AsyncClient(base_url=control_url, timeout=timeout_s, trust_env=False)
    control = ControlKeyStore(client, internal_token, concurrency=concurrency)
    return FallbackKeyStore(redis_store, control, count), client
