"""Telemetry setup: OpenTelemetry tracing over OTLP/HTTP (off unless an endpoint is set)
and the Prometheus exposition used by every service's /metrics.

Tracing is off by default and then costs nothing on the hot path: `active_tracer` returns None,
and every traced component (ASGI server spans, the proxy's upstream transport, the usage
publisher and consumer) is built without its tracing branch. When `OTEL_EXPORTER_OTLP_ENDPOINT`
is set, each process installs an SDK tracer provider with a batching OTLP/HTTP exporter; the
exporter and the SDK read the other standard variables themselves (`OTEL_EXPORTER_OTLP_HEADERS`,
`..._TIMEOUT`, `..._COMPRESSION`, `OTEL_TRACES_SAMPLER`, `OTEL_BSP_*`, `OTEL_RESOURCE_ATTRIBUTES`).

Trace context crosses NATS in message headers (W3C `traceparent`/`tracestate`), and gRPC calls
through the official grpc.aio interceptors.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping

from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest


def configure_tracing(
    service: str,
    otlp_endpoint: str,
    *,
    grpc_client: bool = False,
    grpc_server: bool = False,
) -> TracerProvider | None:
    """Install a tracer provider exporting to `otlp_endpoint`; do nothing when it is empty.

    `grpc_client` / `grpc_server` add OpenTelemetry's grpc.aio interceptors to every channel /
    server created afterwards, so calls between services join the caller's trace.
    """
    if not otlp_endpoint:
        return None
    # Imported lazily: the exporter and the instrumentations are only needed when tracing is on.
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    endpoint = f"{otlp_endpoint.rstrip('/')}/v1/traces"
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    trace.set_tracer_provider(provider)
    if grpc_client or grpc_server:
        from opentelemetry.instrumentation.grpc import (
            GrpcAioInstrumentorClient,
            GrpcAioInstrumentorServer,
        )

        if grpc_client:
            GrpcAioInstrumentorClient().instrument(tracer_provider=provider)  # type: ignore[no-untyped-call]
        if grpc_server:
            GrpcAioInstrumentorServer().instrument(tracer_provider=provider)  # type: ignore[no-untyped-call]
    return provider


def active_tracer(name: str) -> trace.Tracer | None:
    """A tracer when this process exports traces, else None (callers then skip tracing entirely)."""
    if isinstance(trace.get_tracer_provider(), TracerProvider):
        return trace.get_tracer(name)
    return None


def inject_trace_context(headers: MutableMapping[str, str], context: Context | None = None) -> None:
    """Write the W3C trace context of `context` (default: the current one) into message headers."""
    propagate.inject(headers, context=context)


def extract_trace_context(headers: Mapping[str, str] | None) -> Context:
    """The trace context carried by message headers (an empty context when there is none)."""
    return propagate.extract(headers or {})


def render_metrics() -> tuple[bytes, str]:
    """The Prometheus text exposition of this process's metrics and its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
