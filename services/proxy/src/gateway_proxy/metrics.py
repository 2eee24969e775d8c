"""Prometheus metrics of the proxy, in a registry owned by the app instance.

Choice: one `CollectorRegistry` per `create_app()` (not prometheus_client's global REGISTRY),
handed to the middleware and the lifespan state. Metric objects are created once per app, so
building several apps in one process (tests) never hits "duplicated timeseries", and nothing
lives in module globals. With several Granian workers each worker exposes its own numbers on
/metrics; a scraper sees one worker per scrape (multiprocess aggregation is a later concern).

Label cardinality is bounded: `model` is the alias only when the snapshot knows it (otherwise
`unknown`), `route` is the route template, never the raw path.
"""

from __future__ import annotations

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector

# Latency buckets from sub-millisecond (gateway overhead) to minutes (long generations).
_LATENCY_BUCKETS = (
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1,
    2.5,
    5,
    10,
    30,
    60,
    300,
)
_OVERHEAD_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5)


class ProxyMetrics:
    """The proxy's metric objects and the registry that renders them."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        GCCollector(registry=self.registry)
        self.requests = Counter(
            "gateway_proxy_requests",
            "Requests answered, by route, model alias and HTTP status.",
            ["route", "model", "status"],
            registry=self.registry,
        )
        self.request_duration = Histogram(
            "gateway_proxy_request_duration_seconds",
            "Time from request arrival to the end of the response (streams included).",
            ["route"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.upstream_duration = Histogram(
            "gateway_proxy_upstream_duration_seconds",
            "Time waiting on the provider until its response (headers for streams) arrived.",
            ["provider"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.overhead = Histogram(
            "gateway_proxy_overhead_seconds",
            "Time the gateway itself added before the response started (upstream time excluded).",
            ["route"],
            buckets=_OVERHEAD_BUCKETS,
            registry=self.registry,
        )
        self.upstream_errors = Counter(
            "gateway_proxy_upstream_errors",
            "Upstream failures by provider and error code.",
            ["provider", "code"],
            registry=self.registry,
        )
        self.key_lookups = Counter(
            "gateway_proxy_key_lookups",
            "Virtual-key authentications by outcome.",
            ["outcome"],
            registry=self.registry,
        )
        self.usage_events = Counter(
            "gateway_proxy_usage_events",
            "Usage events by outcome: queued, published, duplicate, retried, dropped.",
            ["outcome"],
            registry=self.registry,
        )
        self.usage_queue_depth = Gauge(
            "gateway_proxy_usage_queue_depth",
            "Usage events waiting to be published.",
            registry=self.registry,
        )
        self.config_revision = Gauge(
            "gateway_proxy_config_revision",
            "Revision of the config snapshot in use (0 before the first).",
            registry=self.registry,
        )

    def render(self) -> tuple[bytes, str]:
        """The text exposition and its content type, for GET /metrics."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
