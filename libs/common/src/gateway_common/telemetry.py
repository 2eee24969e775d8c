"""Telemetry setup: OpenTelemetry tracing over OTLP/HTTP (off unless an endpoint is set)
and the Prometheus exposition used by every service's /metrics."""

from __future__ import annotations

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest


def configure_tracing(service: str, otlp_endpoint: str) -> TracerProvider | None:
    """Install a tracer provider exporting to `otlp_endpoint`; do nothing when it is empty."""
    if not otlp_endpoint:
        return None
    # Imported lazily: the exporter is only needed when tracing is on.
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=f"{otlp_endpoint}/v1/traces")))
    trace.set_tracer_provider(provider)
    return provider


def render_metrics() -> tuple[bytes, str]:
    """The Prometheus text exposition of this process's metrics and its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
