"""The usage consumer: JetStream stream USAGE -> priced rows in Postgres, exactly once in effect.

One loop per process, on the durable pull consumer "accounting" (explicit acks), which every
replica shares: JetStream hands each message to one puller at a time. For each batch:

1. decode and price every message; one that never can be stored is dead-lettered (recorded in
   accounting.dead_letters, republished on gateway.usage.dlq) and terminated, so it is not
   redelivered forever (dead_letter.py; a message that fails `max_deliver` times for any other
   reason is dead-lettered from JetStream's advisory, advisories.py);
2. in ONE transaction insert the rows (`ON CONFLICT (request_id) DO NOTHING`) and add the rows
   actually inserted to the hourly rollup, then commit;
3. hand the rows stored for the first time to budget settlement (queued, never awaited) and
   `ack_sync` every message.

A crash between 2 and 3, or an ack that is lost, only causes a redelivery, which step 2 turns
into a no-op: redeliveries and replicas never double count. While Postgres is unreachable the
batch in hand is retried with backoff and kept alive with `in_progress` (a redelivery would only
burn the message's bounded delivery count); no new batch is fetched until Postgres is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
import nats.errors
from gateway_common.names import USAGE_STREAM, USAGE_SUBJECT
from gateway_common.nats import NatsConnection, ensure_usage_stream
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from opentelemetry import trace

from gateway_accounting.database import Database
from gateway_accounting.dead_letter import DeadLetterOffice, ensure_dlq_stream
from gateway_accounting.errors import PoisonMessage, is_transient_db_error
from gateway_accounting.events import UsageRow, usage_row_from_message
from gateway_accounting.metrics import AccountingMetrics
from gateway_accounting.store import write_new_usage
from gateway_accounting.tracing import traced_batch

log = logging.getLogger(__name__)

DURABLE_NAME = "accounting"
# How often an idle consumer checks that its durable still exists (a deleted stream or consumer
# leaves a pull subscription silently empty).
_VERIFY_INTERVAL_S = 10.0


@dataclass(frozen=True)
class ConsumerOptions:
    """Tuning of the consumer (from AccountingSettings)."""

    batch_size: int
    fetch_timeout_s: float
    ack_wait_s: float
    max_deliver: int


@dataclass
class _Delivery:
    """A fetched message and, when it decoded, its row."""

    msg: Msg
    row: UsageRow


class UsageConsumer:
    """Runs the consume loop until `stop` is called; `run` belongs in the app's task group."""

    def __init__(
        self,
        nats_conn: NatsConnection,
        database: Database,
        options: ConsumerOptions,
        metrics: AccountingMetrics,
        office: DeadLetterOffice,
        on_stored: Callable[[list[UsageRow]], None] | None = None,
        tracer: trace.Tracer | None = None,
    ) -> None:
        self._nats = nats_conn
        # Told the rows each commit stored for the first time (budget settlement); must not block.
        self._on_stored = on_stored
        self._office = office
        self._tracer = tracer
        self._database = database
        self._options = options
        self._metrics = metrics
        self._stopping = asyncio.Event()
        self._subscribed = False
        self._running = False

    @property
    def running(self) -> bool:
        """True while the loop runs and is bound to its JetStream consumer."""
        return self._running and self._subscribed

    def stop(self) -> None:
        """Ask the loop to finish the batch in flight and return."""
        self._stopping.set()

    async def run(self) -> None:
        """Consume until stopped, resubscribing with backoff after NATS errors."""
        self._running = True
        try:
            await self._wait_first_connection()
            delay = 0.2
            while not self._stopping.is_set():
                try:
                    sub = await self._subscribe()
                    delay = 0.2
                    await self._consume(sub)
                except (nats.errors.Error, OSError) as exc:
                    self._subscribed = False
                    self._metrics.errors.labels("nats").inc()
                    log.warning("usage consumer lost JetStream, resubscribing in %.1fs: %r", delay, exc)
                except Exception:
                    # A bug must not silently end consumption: log it loudly and start over; the
                    # messages of the failed batch are redelivered after ack_wait.
                    self._subscribed = False
                    self._metrics.errors.labels("internal").inc()
                    log.exception("usage consumer failed; restarting in %.1fs", delay)
                else:
                    continue
                await self._sleep(delay)
                delay = min(delay * 2, 5.0)
        finally:
            self._subscribed = False
            self._running = False
            log.info("usage consumer stopped")

    async def _wait_first_connection(self) -> None:
        # Short waits in a loop: an infinite timeout overflows uvloop's timer.
        while not self._stopping.is_set():
            try:
                await self._nats.wait_connected(timeout=0.5)
            except TimeoutError:
                continue
            return

    async def _subscribe(self) -> JetStreamContext.PullSubscription:
        js = self._nats.jetstream
        await ensure_usage_stream(js, self._nats.stream_replicas)
        # Before the durable exists, so its max-deliveries advisories are always captured.
        await ensure_dlq_stream(js, DURABLE_NAME, self._nats.stream_replicas)
        # add_consumer creates the durable or updates its settings (ack wait, max deliveries).
        await js.add_consumer(
            USAGE_STREAM,
            ConsumerConfig(
                name=DURABLE_NAME,
                durable_name=DURABLE_NAME,
                deliver_policy=DeliverPolicy.ALL,
                ack_policy=AckPolicy.EXPLICIT,
                ack_wait=self._options.ack_wait_s,
                max_deliver=self._options.max_deliver,
                max_ack_pending=max(1000, self._options.batch_size * 4),
                filter_subject=USAGE_SUBJECT,
            ),
        )
        sub = await js.pull_subscribe_bind(DURABLE_NAME, stream=USAGE_STREAM)
        self._subscribed = True
        log.info("usage consumer bound to %s/%s", USAGE_STREAM, DURABLE_NAME)
        return sub

    async def _consume(self, sub: JetStreamContext.PullSubscription) -> None:
        try:
            verified_at = time.monotonic()
            while not self._stopping.is_set():
                # Fetch nothing while Postgres has never been reached: the messages would only wait.
                if not self._database.started:
                    await self._until_stopped(self._database.wait_started())
                    continue
                try:
                    msgs = await sub.fetch(self._options.batch_size, timeout=self._options.fetch_timeout_s)
                except nats.errors.TimeoutError:
                    self._metrics.consumer_pending.set(0)  # nothing came: nothing is waiting
                    if time.monotonic() - verified_at > _VERIFY_INTERVAL_S:
                        await sub.consumer_info()
                        verified_at = time.monotonic()
                    continue
                await self._process_batch(msgs)
        finally:
            with contextlib.suppress(nats.errors.Error):
                await sub.unsubscribe()

    async def _process_batch(self, msgs: Sequence[Msg]) -> None:
        """Store one fetched batch and ack it (see the module docstring for the steps)."""
        started = time.perf_counter()
        self._metrics.events_consumed.inc(len(msgs))
        if msgs:
            self._metrics.consumer_pending.set(msgs[-1].metadata.num_pending)
        with traced_batch(self._tracer, msgs):
            deliveries = await self._decode_all(msgs)
            if deliveries:
                stored = await self._store(deliveries)
                if stored is None:
                    return  # stopping with Postgres down: the messages will be redelivered
                await self._ack_all([d.msg for d in stored])
        self._metrics.batch_seconds.observe(time.perf_counter() - started)

    async def _decode_all(self, msgs: Sequence[Msg]) -> list[_Delivery]:
        """Decode and price the batch in one plain loop (no task per message: this is the hot
        path); the poison messages are dead-lettered afterwards."""
        deliveries: list[_Delivery] = []
        poison: list[tuple[Msg, str]] = []
        for msg in msgs:
            try:
                deliveries.append(_Delivery(msg, usage_row_from_message(msg.data)))
            except PoisonMessage as exc:
                poison.append((msg, str(exc)))
        for msg, reason in poison:
            await self._terminate(msg, reason, "poison")
        return deliveries

    async def _terminate(self, msg: Msg, reason: str, kind: str) -> None:
        """Dead-letter a message that can never be stored (see dead_letter.py), then term it."""
        meta = msg.metadata
        log.error(
            "usage message can never be stored: %s",
            reason,
            extra={"stream_seq": meta.sequence.stream, "deliveries": meta.num_delivered},
        )
        self._metrics.poison_messages.inc()
        # When Postgres or NATS fails on the way the message is left unacked: it comes back
        # after ack_wait and is dead-lettered then (or, on its last delivery, by the advisory).
        await self._office.send_and_terminate(msg, reason, kind)

    async def _store(self, deliveries: list[_Delivery]) -> list[_Delivery] | None:
        """Write the rows, retrying outages; return the deliveries to ack (None: gave up)."""
        delay = 0.2
        heartbeat_at = time.monotonic() + self._options.ack_wait_s / 3
        while True:
            try:
                inserted = await write_new_usage(self._database.pool, [d.row for d in deliveries])
            except Exception as exc:
                self._metrics.errors.labels("postgres").inc()
                if not is_transient_db_error(exc):
                    if not isinstance(exc, asyncpg.PostgresError):
                        raise
                    log.warning("usage batch refused by Postgres (%s); storing its rows one by one", exc)
                    return await self._store_one_by_one(deliveries)
                if self._stopping.is_set():
                    log.warning(
                        "stopping with Postgres unreachable; %d messages left for redelivery", len(deliveries)
                    )
                    return None
                log.warning("Postgres unreachable, retrying the batch in %.1fs: %s", delay, exc)
                await self._sleep(delay)
                # Never sleep past a heartbeat: the messages must not time out while held.
                delay = min(delay * 2, 5.0, self._options.ack_wait_s / 3)
                if time.monotonic() >= heartbeat_at:
                    await self._keep_alive([d.msg for d in deliveries])
                    heartbeat_at = time.monotonic() + self._options.ack_wait_s / 3
                continue
            self._count(len(deliveries), inserted)
            return deliveries

    async def _store_one_by_one(self, deliveries: list[_Delivery]) -> list[_Delivery] | None:
        """Isolate the rows Postgres refuses: store each alone, terminate the ones refused."""
        stored: list[_Delivery] = []
        for delivery in deliveries:
            try:
                inserted = await write_new_usage(self._database.pool, [delivery.row])
            except Exception as exc:
                if is_transient_db_error(exc):
                    # An outage in the middle: ack what is stored; the rest comes back.
                    self._metrics.errors.labels("postgres").inc()
                    return stored or None
                if not isinstance(exc, asyncpg.PostgresError):
                    raise
                await self._terminate(delivery.msg, f"Postgres refused the row: {exc}", "refused")
                continue
            self._count(1, inserted)
            stored.append(delivery)
        return stored

    def _count(self, rows: int, inserted: list[UsageRow]) -> None:
        self._metrics.rows_inserted.inc(len(inserted))
        self._metrics.count_stored(inserted)
        self._metrics.duplicates.inc(rows - len(inserted))
        if self._on_stored is not None and inserted:
            self._on_stored(inserted)

    async def _ack_all(self, msgs: Sequence[Msg]) -> None:
        """Ack a committed batch: a plain `ack` for each message, then `ack_sync` on the last.

        The acks travel in order on one connection and JetStream applies a consumer's acks in
        the order it reads them, so the reply to the last one confirms the whole batch for one
        round trip instead of one per message (the request/reply of each `ack_sync` was the
        largest single cost of ingestion). Acks are only ever sent after the commit.
        """
        if not msgs:
            return
        failures = 0
        for msg in msgs[:-1]:
            try:
                await msg.ack()
            except nats.errors.Error:
                failures += 1
        try:
            await msgs[-1].ack_sync()
        except (TimeoutError, nats.errors.Error):
            # Unconfirmed: any of the batch's acks may be lost with it.
            failures = len(msgs)
        if failures:
            # The rows are committed: a redelivery of these is a harmless duplicate.
            self._metrics.errors.labels("ack").inc(failures)
            log.warning(
                "%d of %d acks not confirmed; they will be redelivered and skipped", failures, len(msgs)
            )

    async def _keep_alive(self, msgs: Sequence[Msg]) -> None:
        results = await asyncio.gather(*(m.in_progress() for m in msgs), return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException) and not isinstance(result, nats.errors.Error):
                raise result

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    async def _until_stopped(self, awaitable: Coroutine[Any, Any, object]) -> None:
        """Wait for `awaitable` or for stop, whichever comes first."""
        waiter = asyncio.ensure_future(awaitable)
        stopper = asyncio.ensure_future(self._stopping.wait())
        try:
            await asyncio.wait({waiter, stopper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (waiter, stopper):
                task.cancel()
            await asyncio.gather(waiter, stopper, return_exceptions=True)
        failure = waiter.exception() if waiter.done() and not waiter.cancelled() else None
        if failure is not None:
            raise failure
