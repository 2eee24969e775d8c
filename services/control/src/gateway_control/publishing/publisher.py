"""The config publisher: every data-plane change becomes a new ConfigSnapshot in NATS KV.

Changes call `request(reason)`; the publisher waits a short debounce window so a burst of
changes becomes one snapshot, then reads the catalogue in one repeatable-read transaction under
an advisory lock (replicas publish one at a time), takes the next revision from the database's
counter (so revisions keep increasing across restarts) and writes the snapshot to KV with
compare-and-set. A failed publish stays requested and is retried with backoff.

The publisher also publishes once at startup, when Postgres (migrated) and NATS are both
reachable, and checks every few seconds that KV still holds its latest snapshot, so a NATS that
restarted empty gets the configuration back without anyone touching the API.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime

import nats.errors
import psycopg
from gateway_common.nats import NatsConnection
from gateway_common.sealing import DataPlaneKeys

from gateway_control import metrics
from gateway_control.database import Database
from gateway_control.db import budgets, config_revisions, deployments, models, providers, routes
from gateway_control.publishing.rate_limit_defaults import load_rate_limit_defaults
from gateway_control.publishing.snapshot import CatalogRows, build_snapshot
from gateway_control.publishing.snapshot_store import SnapshotStore
from gateway_control.security.envelope import EnvelopeCipher

log = logging.getLogger(__name__)

_PUBLISH_ERRORS = (psycopg.Error, nats.errors.Error, ConnectionError, OSError, RuntimeError)
_MAX_BACKOFF_S = 5.0
_DRAIN_TIMEOUT_S = 5.0


class ConfigPublisher:
    """Debounced, retried publishing of the ConfigSnapshot."""

    def __init__(
        self,
        db: Database,
        nats: NatsConnection,
        envelope: EnvelopeCipher,
        dataplane: DataPlaneKeys,
        *,
        schema_ready: asyncio.Event,
        debounce_s: float,
        allow_unpriced_models: bool,
        recheck_interval_s: float = 5.0,
    ) -> None:
        self._db = db
        self._nats = nats
        self._store = SnapshotStore(nats)
        self._envelope = envelope
        self._dataplane = dataplane
        self._schema_ready = schema_ready
        self._debounce_s = debounce_s
        self._allow_unpriced = allow_unpriced_models
        self._recheck_s = recheck_interval_s
        self._requested = asyncio.Event()
        self._reasons: set[str] = set()
        self.last_revision: int | None = None

    def request(self, reason: str) -> None:
        """Ask for a new snapshot soon (changes within the debounce window share one)."""
        self._reasons.add(reason)
        self._requested.set()

    @property
    def can_publish(self) -> bool:
        """Whether both ends are reachable: the schema is ready and NATS is connected."""
        return self._schema_ready.is_set() and self._nats.connected

    async def run(self, stopping: asyncio.Event) -> None:
        """Publish on request until `stopping` is set, then flush a pending request."""
        backoff = 0.2
        while not stopping.is_set():
            await _wait_any((self._requested, stopping), self._recheck_s)
            if stopping.is_set():
                break
            if not self._requested.is_set():
                await self._recheck()
                continue
            await asyncio.sleep(self._debounce_s)
            if not self.can_publish:
                await _wait_any((stopping,), 0.5)
                continue
            if await self._publish_requested():
                backoff = 0.2
            else:
                await _wait_any((stopping,), backoff)
                backoff = min(backoff * 2, _MAX_BACKOFF_S)
        if self._requested.is_set() and self.can_publish:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._publish_requested(), _DRAIN_TIMEOUT_S)

    async def _publish_requested(self) -> bool:
        reason = ", ".join(sorted(self._reasons))[:500] or "requested"
        self._reasons.clear()
        self._requested.clear()
        try:
            await self.publish_now(reason)
        except _PUBLISH_ERRORS as exc:
            metrics.SNAPSHOT_PUBLISHES.labels("failed").inc()
            log.error("config snapshot publish failed; will retry: %s", exc)
            self.request(reason)
            return False
        return True

    async def publish_now(self, reason: str) -> int:
        """Build and store a snapshot at the next revision; returns that revision."""
        async with self._db.transaction(repeatable_read=True) as conn:
            await config_revisions.lock_config_publishing(conn)
            taken = await config_revisions.next_config_revision(conn, actor_id=None, reason=reason)
            if taken is None:
                raise RuntimeError("NextConfigRevision returned no row")
            rows = CatalogRows(
                revision=taken.revision,
                models=await models.list_models(conn),
                deployments=await deployments.list_deployments(conn),
                routes=await routes.list_routes(conn),
                providers=await providers.list_providers(conn),
                budgets=await budgets.list_budgets(conn),
                rate_limit_defaults=await load_rate_limit_defaults(conn),
            )
            snapshot = build_snapshot(
                rows,
                envelope=self._envelope,
                dataplane=self._dataplane,
                allow_unpriced_models=self._allow_unpriced,
                now=datetime.now(UTC),
            )
            # Still under the lock: no other replica can slip a newer revision in between.
            held = await self._store.put_if_newer(snapshot)
            if held is not None:
                # Under the lock every revision this database issued is lower than ours, so KV
                # holds a snapshot from another database history (a restore): overtake it.
                await config_revisions.advance_config_revision(conn, revision=held)
                log.warning(
                    "NATS holds a newer snapshot revision than this database; advancing the counter",
                    extra={"held_revision": held, "revision": rows.revision},
                )
                self.request("overtake newer revision")
                metrics.SNAPSHOT_PUBLISHES.labels("stale").inc()
                return rows.revision
        self.last_revision = rows.revision
        metrics.SNAPSHOT_PUBLISHES.labels("published").inc()
        metrics.SNAPSHOT_REVISION.set(rows.revision)
        log.info(
            "published config snapshot",
            extra={
                "revision": rows.revision,
                "models": len(snapshot.models),
                "routes": len(snapshot.routes),
                "reason": reason,
            },
        )
        return rows.revision

    async def _recheck(self) -> None:
        # A fresh NATS (or a purged bucket) has lost the snapshot: publish again.
        if not self.can_publish:
            return
        try:
            held = await self._store.current_revision()
        except _PUBLISH_ERRORS as exc:
            log.debug("config snapshot recheck failed: %s", exc)
            return
        if held is None or (self.last_revision is not None and held < self.last_revision):
            log.warning("config snapshot missing or older in NATS KV; re-publishing", extra={"held": held})
            self.request("snapshot missing in KV")


async def _wait_any(events: tuple[asyncio.Event, ...], timeout: float) -> None:
    """Return when any of `events` is set or `timeout` seconds have passed."""
    waiters = [asyncio.ensure_future(event.wait()) for event in events]
    try:
        await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
