"""Key records in Redis (`gw:key:{digest}`) and invalidations on `gateway.keys.invalidate`.

Every write is versioned by when its database state was read (`read_at`, from the database's
clock): a Lua script keeps the version in `gw:keyver:{digest}` and refuses to replace a record
with one read earlier, so two concurrent changes (revoke + suspend) cannot leave a stale record.

Revoked keys are written with `revoked = true` and a TTL (REVOKED_KEY_TTL_S): the proxy refuses
them from Redis without asking control; once the record expires, the proxy's miss path asks
control (`GET /internal/keys/{digest}`), which still answers with the revoked record.

A write that fails (Redis down) is kept and retried by the reconciler, which also rewrites
every unrevoked key whenever the sentinel `gw:keys:populated` is missing (Redis restarted empty
or was flushed); the sentinel is set before rewriting, so a flush during the rewrite is noticed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Sequence

import nats.errors
import psycopg
from gateway_common.names import KEY_INVALIDATE_SUBJECT, redis_key_record
from gateway_common.nats import NatsConnection
from gateway_proto.v1.keys_pb2 import KeyInvalidation, KeyRecord
from redis.asyncio import Redis
from redis.exceptions import RedisError

from gateway_control import metrics
from gateway_control.database import Database
from gateway_control.db import api_keys as queries
from gateway_control.publishing.key_records import KeyRecordSource, build_key_record, record_version_us

log = logging.getLogger(__name__)

POPULATED_SENTINEL = "gw:keys:populated"
_PAGE = 500
_NIL_UUID = uuid.UUID(int=0)

_WRITE_IF_NEWER = """
local held = redis.call('GET', KEYS[2])
if held and tonumber(held) > tonumber(ARGV[2]) then
  return 0
end
local ttl = tonumber(ARGV[3])
if ttl > 0 then
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ttl)
  redis.call('SET', KEYS[2], ARGV[2], 'EX', ttl)
else
  redis.call('SET', KEYS[1], ARGV[1])
  redis.call('SET', KEYS[2], ARGV[2])
end
return 1
"""


def version_key(digest: str) -> str:
    """Redis key holding the version of the record at `gw:key:{digest}`."""
    return f"gw:keyver:{digest}"


class KeyRecordPublisher:
    """Writes key records to Redis, announces invalidations, and repairs Redis when it lost them."""

    def __init__(
        self,
        db: Database,
        redis: Redis,
        nats: NatsConnection,
        *,
        revoked_ttl_s: int,
        reconcile_interval_s: float,
        schema_ready: asyncio.Event,
    ) -> None:
        self._db = db
        self._redis = redis
        self._nats = nats
        self._revoked_ttl_s = revoked_ttl_s
        self._interval_s = reconcile_interval_s
        self._schema_ready = schema_ready
        self._write_script = redis.register_script(_WRITE_IF_NEWER)
        # digest -> (record, version) whose last write failed; the newest wins.
        self._pending: dict[str, tuple[KeyRecord, int]] = {}
        # Changes committed whose records could not even be read back (Postgres went away).
        self._unread_digests: set[str] = set()
        self._unread_tenants: set[uuid.UUID] = set()

    async def publish_digest(self, digest: str) -> None:
        """Read the key with this digest from Postgres and publish its record.

        Called after a change commits, so it never raises: what cannot be done now is retried
        by the reconciler.
        """
        try:
            async with self._db.connection() as conn:
                row = await queries.get_key_record_by_digest(conn, digest=digest)
        except psycopg.Error as exc:
            self._unread_digests.add(digest)
            log.error("could not read a changed key back; will retry: %s", exc)
            return
        if row is not None:
            await self.publish_rows([row])

    async def publish_tenant(self, tenant_id: uuid.UUID) -> None:
        """Re-publish the records of every unrevoked key of a tenant (never raises, like above)."""
        try:
            async for page in self._pages(tenant_id):
                await self.publish_rows(page)
        except psycopg.Error as exc:
            self._unread_tenants.add(tenant_id)
            log.error("could not read a changed tenant's keys back; will retry: %s", exc)

    async def publish_rows(self, rows: Sequence[KeyRecordSource]) -> None:
        """Write the records for `rows` and tell proxies to drop their cached copies."""
        for row in rows:
            await self._write(build_key_record(row), record_version_us(row))
        for row in rows:
            await self._invalidate(str(row.id), row.digest)

    async def lookup(self, digest: str) -> KeyRecord | None:
        """The record for a digest straight from Postgres (the proxy's Redis-miss path).

        The record is also written back to Redis, so the next lookup is a cache hit.
        """
        async with self._db.connection() as conn:
            row = await queries.get_key_record_by_digest(conn, digest=digest)
        if row is None:
            return None
        record = build_key_record(row)
        await self._write(record, record_version_us(row))
        return record

    async def run(self, stopping: asyncio.Event) -> None:
        """Reconcile every few seconds until `stopping` is set (run it in the lifespan's task group)."""
        while not stopping.is_set():
            try:
                await self.reconcile_once()
            except (RedisError, OSError, psycopg.Error) as exc:
                log.warning("key record reconciliation failed, will retry: %s", exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), self._interval_s)

    async def reconcile_once(self) -> None:
        """Retry failed reads and writes; rewrite every unrevoked key when Redis lost its records."""
        for digest in list(self._unread_digests):
            self._unread_digests.discard(digest)
            await self.publish_digest(digest)
        for tenant_id in list(self._unread_tenants):
            self._unread_tenants.discard(tenant_id)
            await self.publish_tenant(tenant_id)
        for record, version in list(self._pending.values()):
            await self._write(record, version)
        if not self._schema_ready.is_set() or await self._redis.exists(POPULATED_SENTINEL):
            return
        # Set first: a flush during the rewrite removes it again and triggers another rewrite.
        await self._redis.set(POPULATED_SENTINEL, b"1")
        try:
            written = await self.repopulate()
        except psycopg.Error:
            await self._redis.delete(POPULATED_SENTINEL)
            raise
        metrics.KEY_REPOPULATIONS.inc()
        log.info("re-populated key records in Redis", extra={"keys": written})

    async def repopulate(self) -> int:
        """Write the record of every unrevoked key (older versions never overwrite newer ones)."""
        written = 0
        async for page in self._pages(None):
            async with self._redis.pipeline(transaction=False) as pipe:
                for row in page:
                    record = build_key_record(row)
                    await self._write_script(
                        keys=[redis_key_record(row.digest), version_key(row.digest)],
                        args=[record.SerializeToString(), record_version_us(row), 0],
                        client=pipe,
                    )
                await pipe.execute()
            written += len(page)
        return written

    async def _pages(self, tenant_id: uuid.UUID | None) -> AsyncIterator[list[queries.ListKeyRecordsRow]]:
        # Keyset pagination by id, one short-lived connection per page.
        after = _NIL_UUID
        while True:
            async with self._db.connection() as conn:
                page = await queries.list_key_records(conn, tenant_id=tenant_id, after_id=after, limit=_PAGE)
            if page:
                yield page
            if len(page) < _PAGE:
                return
            after = page[-1].id

    async def _write(self, record: KeyRecord, version: int) -> None:
        ttl = self._revoked_ttl_s if record.revoked else 0
        try:
            await self._write_script(
                keys=[redis_key_record(record.digest), version_key(record.digest)],
                args=[record.SerializeToString(), version, ttl],
            )
        except (RedisError, OSError) as exc:
            held = self._pending.get(record.digest)
            if held is None or held[1] <= version:
                self._pending[record.digest] = (record, version)
            metrics.KEY_RECORD_WRITES.labels("failed").inc()
            metrics.KEY_RECORDS_PENDING.set(len(self._pending))
            log.error(
                "could not write key record to Redis; will retry",
                extra={"key_id": record.key_id, "error": str(exc)},
            )
            return
        held = self._pending.get(record.digest)
        if held is not None and held[1] <= version:
            del self._pending[record.digest]
        metrics.KEY_RECORD_WRITES.labels("written").inc()
        metrics.KEY_RECORDS_PENDING.set(len(self._pending))

    async def _invalidate(self, key_id: str, digest: str) -> None:
        message = KeyInvalidation(key_id=key_id, digest=digest).SerializeToString()
        try:
            await self._nats.client.publish(KEY_INVALIDATE_SUBJECT, message)
        except (ConnectionError, nats.errors.Error, OSError) as exc:
            # Redis already holds the new record; proxies pick it up when their cache entry expires.
            log.warning("could not publish key invalidation: %s", exc, extra={"key_id": key_id})
