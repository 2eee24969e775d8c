"""Publishing usage events to JetStream off the response path.

`submit` only serializes and enqueues (never awaits). A background task takes events in
batches and publishes them to `gateway.usage.v1` with `Nats-Msg-Id = request_id` (nats-py's
`publish_async`, the batch's acks awaited together under one timeout), so a re-publish after a
lost ack is deduplicated by the USAGE stream. A publish that finds no stream (deleted, or
JetStream restarted empty) recreates it. The queue is bounded; an
event that finds it full is dropped with an error log and a metric.

With a spool (`spool.py`, the normal configuration): an event whose publish fails or times out,
or that comes while NATS is disconnected, is appended to the on-disk spool (fsynced per batch)
instead of being retried in memory, and a second task replays the spool whenever NATS is
connected, deleting each segment once JetStream acknowledged all of it. Replays carry the same
`Nats-Msg-Id`, and accounting's `ON CONFLICT (request_id) DO NOTHING` covers replays older than
the stream's duplicate window, so a replay never double counts. Without a spool, failed events
stay queued and are retried with backoff.

With tracing on (`tracer` given), `submit` remembers the request's trace context and each
publish is a PRODUCER span in that trace whose context travels in the message headers
(`traceparent`), so accounting's consume joins the request's trace. An event replayed from the
spool, or retried after a failed publish, is published in a trace of its own.

`close` flushes what is queued within a time budget on shutdown, spools what it could not
publish, and reports how many events were lost (neither published nor spooled).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence

import nats.errors
from gateway_common.names import USAGE_SUBJECT
from gateway_common.nats import NatsConnection, ensure_usage_stream
from gateway_common.telemetry import inject_trace_context
from gateway_proto.v1.usage_pb2 import UsageEvent
from nats.js.api import PubAck
from nats.js.errors import Error as JetStreamError
from nats.js.errors import NoStreamResponseError
from opentelemetry import context as otel_context
from opentelemetry import trace

from gateway_proxy.metrics import ProxyMetrics
from gateway_proxy.spool import SpooledEvent, UsageSpool

log = logging.getLogger(__name__)

_MAX_BACKOFF_S = 2.0
_REPLAY_IDLE_S = 0.5
# JetStream's answer when no stream captures the subject (nats-py raises the first on publish).
_NO_STREAM = (NoStreamResponseError, nats.errors.NoRespondersError)
_PUBLISH_ERRORS = (nats.errors.Error, JetStreamError, TimeoutError, OSError, ConnectionError)

# A queued event is exactly what the spool stores: its serialized form and its request id.
QueuedEvent = SpooledEvent


class UsagePublisher:
    """Bounded queue of usage events and the task that publishes them to JetStream."""

    def __init__(
        self,
        nats: NatsConnection,
        metrics: ProxyMetrics,
        *,
        queue_size: int,
        publish_timeout_s: float,
        concurrency: int,
        linger_s: float = 0.0,
        spool: UsageSpool | None = None,
        tracer: trace.Tracer | None = None,
    ) -> None:
        self._nats = nats
        self._metrics = metrics
        self._queue: asyncio.Queue[QueuedEvent] = asyncio.Queue(maxsize=queue_size)
        self._publish_timeout_s = publish_timeout_s
        self._concurrency = concurrency
        self._linger_s = linger_s
        self._in_flight: list[QueuedEvent] = []
        self._closing = False
        self._task: asyncio.Task[None] | None = None
        self._spool = spool
        self._replay_task: asyncio.Task[None] | None = None
        self._tracer = tracer
        # Tracing only: request id -> the trace context its event was submitted in.
        self._trace_contexts: dict[str, otel_context.Context] = {}

    @property
    def pending(self) -> int:
        """Events not yet confirmed by JetStream (queued or being published)."""
        return self._queue.qsize() + len(self._in_flight)

    def submit(self, event: UsageEvent) -> None:
        """Enqueue an event for publishing; never blocks the caller."""
        queued = QueuedEvent(event.request_id, event.SerializeToString())
        try:
            self._queue.put_nowait(queued)
        except asyncio.QueueFull:
            self._metrics.usage_events.labels("dropped").inc()
            log.error("usage queue full; usage event dropped", extra={"usage_request_id": event.request_id})
            return
        self._metrics.usage_events.labels("queued").inc()
        self._metrics.usage_queue_depth.set(self._queue.qsize())
        if event.time_to_first_token_us > 0:
            self._metrics.time_to_first_token.labels(event.provider).observe(
                event.time_to_first_token_us / 1e6
            )
        if self._tracer is not None:
            self._remember_trace_context(event.request_id)

    def _remember_trace_context(self, request_id: str) -> None:
        contexts = self._trace_contexts
        contexts[request_id] = otel_context.get_current()
        # Events spooled without a publish attempt (NATS down) never claim theirs: keep the newest.
        if len(contexts) > self._queue.maxsize:
            del contexts[next(iter(contexts))]

    def start(self) -> None:
        """Start the publishing task (and the spool's replay task when there is a spool)."""
        self._task = asyncio.create_task(self._run(), name="usage-publisher")
        if self._spool is not None:
            self._replay_task = asyncio.create_task(self._replay_forever(self._spool), name="usage-replay")

    async def close(self, timeout_s: float) -> int:
        """Publish what is queued (waiting at most `timeout_s`), spool the rest, stop, and return
        how many events were lost."""
        self._closing = True
        task = self._task
        if task is None:
            return self.pending
        try:
            await asyncio.wait_for(asyncio.shield(task), timeout_s)
        except TimeoutError:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._replay_task is not None:
            # Whatever it had not replayed stays on disk for the next start.
            self._replay_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._replay_task
        leftover = [*self._in_flight, *_drain(self._queue)]
        self._in_flight = []
        if leftover and self._spool is not None:
            leftover = await self._spool.append(leftover)
        if self._spool is not None:
            self._spool.close()
        lost = len(leftover)
        if lost:
            log.error("usage events not published before shutdown", extra={"lost_events": lost})
        return lost

    async def _run(self) -> None:
        while not (self._closing and self._queue.empty()):
            try:
                # Not asyncio.wait_for: on Python 3.11 it wraps the get in a task of its own.
                async with asyncio.timeout(0.2):  # look at `_closing` again now and then
                    first = await self._queue.get()
            except TimeoutError:
                continue
            self._in_flight = [first]  # counted as pending, and spooled if stopped, from here
            if self._linger_s and not self._closing and self._queue.qsize() < self._concurrency - 1:
                # Let a few more events join this batch: one wake-up, one write and one read of
                # acks for several requests instead of for each.
                await asyncio.sleep(self._linger_s)
            while len(self._in_flight) < self._concurrency and not self._queue.empty():
                self._in_flight.append(self._queue.get_nowait())
            self._metrics.usage_queue_depth.set(self._queue.qsize())
            await self._publish_until_done()
            self._in_flight = []

    async def _publish_until_done(self) -> None:
        if self._spool is not None and await self._publish_or_spool(self._spool):
            return
        delay = 0.1
        while self._in_flight:
            if self._nats.connected:
                results = await self._publish_batch(self._in_flight)
                self._in_flight = [e for e, ok in zip(self._in_flight, results, strict=True) if not ok]
                if not self._in_flight:
                    return
                self._metrics.usage_events.labels("retried").inc(len(self._in_flight))
            await asyncio.sleep(delay)
            delay = min(delay * 2, _MAX_BACKOFF_S)

    async def _publish_or_spool(self, spool: UsageSpool) -> bool:
        """Publish the batch once; spool what failed. False if the spool refused some (full)."""
        if self._nats.connected:
            results = await self._publish_batch(self._in_flight)
            self._in_flight = [e for e, ok in zip(self._in_flight, results, strict=True) if not ok]
        if not self._in_flight:
            return True
        self._in_flight = await spool.append(self._in_flight)
        return not self._in_flight

    async def _replay_forever(self, spool: UsageSpool) -> None:
        while True:
            if spool.size_bytes and self._nats.connected:
                try:
                    await self._replay(spool)
                except OSError as exc:
                    log.error("usage spool replay failed; retrying: %s", exc)
            await asyncio.sleep(_REPLAY_IDLE_S)

    async def _replay(self, spool: UsageSpool) -> None:
        """Publish every spooled segment, oldest first; delete each one fully acknowledged."""
        for segment in await spool.sealed_segments():
            events = await spool.read(segment)
            for start in range(0, len(events), self._concurrency):
                chunk = events[start : start + self._concurrency]
                results = await self._publish_batch(chunk)
                if not all(results):
                    return  # NATS went away again: this segment is replayed from its start later
            await spool.remove(segment, replayed=len(events))
            log.info("replayed a usage spool segment", extra={"replayed_events": len(events)})

    async def _publish_batch(self, events: Sequence[QueuedEvent]) -> list[bool]:
        """Publish `events` together; whether JetStream acknowledged each within the timeout.

        Without tracing every event goes out with `publish_async` and the acks are awaited
        together under one timeout: no task, request inbox or timer per event. With tracing each
        publish is a span of its own (`_publish_traced`).
        """
        if self._tracer is not None:
            return list(await asyncio.gather(*(self._publish_traced(e, self._tracer) for e in events)))
        jetstream = self._nats.jetstream
        acks: list[asyncio.Future[PubAck] | None] = []
        for event in events:
            try:
                ack = await jetstream.publish_async(
                    USAGE_SUBJECT, event.payload, headers={"Nats-Msg-Id": event.request_id}
                )
            except _PUBLISH_ERRORS as exc:
                self._log_failure(event, exc)
                ack = None
            acks.append(ack)
        waiting = [ack for ack in acks if ack is not None]
        if waiting:
            _, late = await asyncio.wait(waiting, timeout=self._publish_timeout_s)
            for ack in late:
                ack.cancel()  # nats-py forgets a cancelled publish and frees its slot
        results = [self._acknowledged(event, ack) for event, ack in zip(events, acks, strict=True)]
        if any(isinstance(ack.exception(), _NO_STREAM) for ack in waiting if not ack.cancelled()):
            await self._recreate_stream()
        return results

    def _acknowledged(self, event: QueuedEvent, ack: asyncio.Future[PubAck] | None) -> bool:
        if ack is None:
            return False
        if ack.cancelled():
            self._log_failure(event, TimeoutError("no acknowledgement in time"))
            return False
        error = ack.exception()
        if error is not None:
            self._log_failure(event, error)
            return False
        self._metrics.usage_events.labels("duplicate" if ack.result().duplicate else "published").inc()
        return True

    async def _publish_traced(self, event: QueuedEvent, tracer: trace.Tracer) -> bool:
        # Claimed by the first attempt: a retry or a replay is published in a trace of its own.
        parent = self._trace_contexts.pop(event.request_id, None)
        with tracer.start_as_current_span(
            f"{USAGE_SUBJECT} publish",
            context=parent,
            kind=trace.SpanKind.PRODUCER,
            attributes={
                "messaging.system": "nats",
                "messaging.operation.type": "send",
                "messaging.destination.name": USAGE_SUBJECT,
                "messaging.message.id": event.request_id,
            },
        ) as span:
            headers = {"Nats-Msg-Id": event.request_id}
            inject_trace_context(headers)
            published = await self._publish_with_headers(event, headers)
            if not published:
                span.set_status(trace.StatusCode.ERROR, "not acknowledged")
            return published

    async def _publish_with_headers(self, event: QueuedEvent, headers: dict[str, str]) -> bool:
        try:
            ack = await self._nats.jetstream.publish(
                USAGE_SUBJECT,
                event.payload,
                timeout=self._publish_timeout_s,
                headers=headers,
            )
        except _NO_STREAM:
            # No stream captures the subject (deleted, or JetStream restarted empty): recreate it.
            await self._recreate_stream()
            return False
        except _PUBLISH_ERRORS as exc:
            self._log_failure(event, exc)
            return False
        self._metrics.usage_events.labels("duplicate" if ack.duplicate else "published").inc()
        return True

    @staticmethod
    def _log_failure(event: QueuedEvent, exc: BaseException) -> None:
        log.warning("usage publish failed; will retry: %s", exc, extra={"usage_request_id": event.request_id})

    async def _recreate_stream(self) -> None:
        try:
            await ensure_usage_stream(self._nats.jetstream)
        except (nats.errors.Error, JetStreamError, TimeoutError, OSError, ConnectionError) as exc:
            log.warning("could not ensure the USAGE stream: %s", exc)


def _drain(queue: asyncio.Queue[QueuedEvent]) -> list[QueuedEvent]:
    items: list[QueuedEvent] = []
    while not queue.empty():
        items.append(queue.get_nowait())
    return items
