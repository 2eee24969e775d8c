"""Trace spans of the usage consumer (built only when tracing is on).

Each fetched message gets a CONSUMER span whose parent is the trace context the proxy put in
its headers, so the request's trace continues into accounting. The batch's store-and-ack is one
span with a link to every message's span (OpenTelemetry's model for batch processing): one
Postgres transaction serves many requests, so it belongs to no single trace.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from gateway_common.names import USAGE_SUBJECT
from gateway_common.telemetry import extract_trace_context
from nats.aio.msg import Msg
from opentelemetry import trace


@contextmanager
def traced_batch(tracer: trace.Tracer | None, msgs: Sequence[Msg]) -> Iterator[None]:
    """Spans for one fetched batch: per-message CONSUMER spans, and the batch span as current."""
    if tracer is None:
        yield
        return
    message_spans = [
        tracer.start_span(
            f"{USAGE_SUBJECT} process",
            context=extract_trace_context(msg.headers),
            kind=trace.SpanKind.CONSUMER,
            attributes={
                "messaging.system": "nats",
                "messaging.operation.type": "process",
                "messaging.destination.name": USAGE_SUBJECT,
                "messaging.message.id": (msg.headers or {}).get("Nats-Msg-Id", ""),
            },
        )
        for msg in msgs
    ]
    try:
        with tracer.start_as_current_span(
            "usage batch store",
            links=[trace.Link(span.get_span_context()) for span in message_spans],
            attributes={
                "messaging.batch.message_count": len(msgs),
                "db.system.name": "postgresql",
                "db.operation.name": "INSERT",
                "db.collection.name": "accounting.usage",
            },
            record_exception=False,
            set_status_on_exception=False,
        ) as batch_span:
            try:
                yield
            except BaseException as exc:
                batch_span.set_status(trace.StatusCode.ERROR, type(exc).__name__)
                raise
    finally:
        for span in message_spans:
            span.end()
