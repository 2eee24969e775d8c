"""Dead-letters the usage messages JetStream stopped redelivering (max deliveries reached).

When a message of the USAGE stream has been delivered `max_deliver` times without an ack (the
consumer crashed on it, or failed on it every time), JetStream stops redelivering it and
publishes a max-deliveries advisory. The USAGE_DLQ stream captures that advisory subject, so
advisories wait in a stream even while no accounting replica runs. `AdvisoryWatcher` reads them
with its own durable (shared by replicas), fetches the original message by its stream sequence
and hands it to the `DeadLetterOffice`; the advisory is acked only after that succeeded.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import nats.errors
import orjson
from gateway_common.names import USAGE_STREAM
from gateway_common.nats import NatsConnection
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError

from gateway_accounting.database import Database
from gateway_accounting.dead_letter import DLQ_STREAM, DeadLetter, DeadLetterOffice, ensure_dlq_stream
from gateway_accounting.dead_letter import max_deliveries_advisory as advisory_subject
from gateway_accounting.errors import is_transient_db_error
from gateway_accounting.metrics import AccountingMetrics

log = logging.getLogger(__name__)

ADVISORY_DURABLE = "accounting-max-deliveries"


class AdvisoryWatcher:
    """Runs until `stop`; `run` belongs in the app's task group."""

    def __init__(
        self,
        nats_conn: NatsConnection,
        database: Database,
        office: DeadLetterOffice,
        metrics: AccountingMetrics,
        *,
        usage_durable: str,
        fetch_timeout_s: float,
    ) -> None:
        self._nats = nats_conn
        self._database = database
        self._office = office
        self._metrics = metrics
        self._usage_durable = usage_durable
        self._fetch_timeout_s = fetch_timeout_s
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        """Ask the loop to return after the advisories in hand."""
        self._stopping.set()

    async def run(self) -> None:
        """Watch for advisories until stopped, re-binding with backoff after NATS errors."""
        delay = 0.2
        while not self._stopping.is_set():
            if not (self._nats.connected and self._database.started):
                await self._sleep(0.2)
                continue
            try:
                sub = await self._subscribe()
                delay = 0.2
                await self._watch(sub)
            except (nats.errors.Error, OSError) as exc:
                self._metrics.errors.labels("nats").inc()
                log.warning("max-deliveries watcher lost JetStream, retrying in %.1fs: %r", delay, exc)
                await self._sleep(delay)
                delay = min(delay * 2, 5.0)

    async def _subscribe(self) -> JetStreamContext.PullSubscription:
        js = self._nats.jetstream
        await ensure_dlq_stream(js, self._usage_durable)
        await js.add_consumer(
            DLQ_STREAM,
            ConsumerConfig(
                name=ADVISORY_DURABLE,
                durable_name=ADVISORY_DURABLE,
                deliver_policy=DeliverPolicy.ALL,
                ack_policy=AckPolicy.EXPLICIT,
                ack_wait=30.0,
                filter_subject=advisory_subject(USAGE_STREAM, self._usage_durable),
            ),
        )
        return await js.pull_subscribe_bind(ADVISORY_DURABLE, stream=DLQ_STREAM)

    async def _watch(self, sub: JetStreamContext.PullSubscription) -> None:
        try:
            while not self._stopping.is_set():
                try:
                    advisories = await sub.fetch(50, timeout=self._fetch_timeout_s)
                except nats.errors.TimeoutError:
                    continue
                for advisory in advisories:
                    await self._handle(advisory)
        finally:
            with contextlib.suppress(nats.errors.Error):
                await sub.unsubscribe()

    async def _handle(self, advisory: Msg) -> None:
        try:
            body = orjson.loads(advisory.data)
            sequence = int(body["stream_seq"])
            deliveries = int(body.get("deliveries", 0))
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            log.error("unreadable max-deliveries advisory dropped: %r", advisory.data[:200])
            await advisory.ack_sync()
            return
        letter = await self._letter(sequence, deliveries)
        try:
            await self._office.send(letter, "max_deliveries")
        except Exception as exc:
            if not is_transient_db_error(exc):
                raise
            # Not acked: the advisory is redelivered after its ack wait and tried again.
            self._metrics.errors.labels("postgres").inc()
            log.warning("could not record dead letter %d yet: %r", sequence, exc)
            return
        await advisory.ack_sync()

    async def _letter(self, sequence: int, deliveries: int) -> DeadLetter:
        reason = f"not acked after {deliveries} deliveries (ACCOUNTING_MAX_DELIVER reached)"
        try:
            original = await self._nats.jetstream.get_msg(USAGE_STREAM, sequence)
        except NotFoundError:
            # Acked late by a slow replica, or aged out: keep the fact, without the payload.
            return DeadLetter(sequence, "", None, b"", deliveries, f"{reason}; no longer in the stream")
        return DeadLetter(
            stream_sequence=sequence,
            subject=original.subject or "",
            msg_id=(original.headers or {}).get("Nats-Msg-Id"),
            payload=original.data or b"",
            deliveries=deliveries,
            reason=reason,
        )

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)
