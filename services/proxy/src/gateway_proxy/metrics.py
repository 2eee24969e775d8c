"""Prometheus metrics of the proxy, in a registry owned by the app instance.

Choice: one `CollectorRegistry` per `create_app()` (not prometheus_client's global REGISTRY),
handed to the middleware and the lifespan state. Metric objects are created once per app, so
building several apps in one process (tests) never hits "duplicated timeseries", and nothing
lives in module globals.

With several Granian workers, `python -m gateway_proxy` points PROMETHEUS_MULTIPROC_DIR at a
fresh directory before the workers start: prometheus_client then keeps every metric value in
per-process files there, and /metrics merges all workers' files (`MultiProcessCollector`), so
a scrape answers for the whole proxy whichever worker serves it. Gauges are then reported per
worker (a `pid` label; dashboards sum or max them), and the process/GC collectors are left out.

Label cardinality is bounded: `model` is the alias only when the snapshot knows it (otherwise
`unknown`), `route` is the route template, never the raw path. That bound is what lets each
labelled metric keep its children in a plain dict (`Children`): prometheus_client's `labels()`
validates and stringifies the values and takes a lock on every call, several times per request.
"""

from __future__ import annotations

from typing import Generic, TypeVar

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.gc_collector import GCCollector
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector

from gateway_proxy.breaker import BreakerState

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
_BREAKER_LEVEL = {BreakerState.CLOSED: 0, BreakerState.HALF_OPEN: 1, BreakerState.OPEN: 2}

_Metric = TypeVar("_Metric", Counter, Gauge, Histogram)


class Children(Generic[_Metric]):
    """A labelled metric whose `labels(*values)` is memoised per value tuple.

    Only for metrics whose children are never removed and whose label values are strings from a
    bounded set (see the module docstring): the cache holds one entry per child prometheus_client
    already keeps.
    """

    __slots__ = ("_cache", "metric")

    def __init__(self, metric: _Metric) -> None:
        self.metric: _Metric = metric
        self._cache: dict[tuple[str, ...], _Metric] = {}

    def labels(self, *values: str) -> _Metric:
        """The child for these label values (created by prometheus_client the first time)."""
        child = self._cache.get(values)
        if child is None:
            child = self._cache[values] = self.metric.labels(*values)
        return child


class ProxyMetrics:
    """The proxy's metric objects and the registry that renders them."""

    def __init__(self, multiprocess_dir: str = "") -> None:
        self.multiprocess_dir = multiprocess_dir
        self.registry = CollectorRegistry(auto_describe=True)
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        GCCollector(registry=self.registry)
        self.requests = self._counter(
            "gateway_proxy_requests",
            "Requests answered, by route, model alias and HTTP status.",
            ["route", "model", "status"],
        )
        self.request_duration = self._histogram(
            "gateway_proxy_request_duration_seconds",
            "Time from request arrival to the end of the response (streams included).",
            ["route"],
            _LATENCY_BUCKETS,
        )
        self.upstream_duration = self._histogram(
            "gateway_proxy_upstream_duration_seconds",
            "Time waiting on the provider until its response (headers for streams) arrived.",
            ["provider"],
            _LATENCY_BUCKETS,
        )
        self.overhead = self._histogram(
            "gateway_proxy_overhead_seconds",
            "Time the gateway itself added before the response started (upstream time excluded).",
            ["route"],
            _OVERHEAD_BUCKETS,
        )
        self.time_to_first_token = self._histogram(
            "gateway_proxy_time_to_first_token_seconds",
            "Streams: time from request arrival to the first content event relayed, by provider.",
            ["provider"],
            _LATENCY_BUCKETS,
        )
        self.error_responses = self._counter(
            "gateway_proxy_error_responses",
            "Requests answered with a gateway error, by error code (rate_limit_exceeded and "
            "insufficient_quota are the rate-limit and budget refusals).",
            ["code"],
        )
        self.upstream_errors = self._counter(
            "gateway_proxy_upstream_errors",
            "Upstream failures by provider and error code.",
            ["provider", "code"],
        )
        self.key_lookups = self._counter(
            "gateway_proxy_key_lookups",
            "Virtual-key authentications by outcome.",
            ["outcome"],
        )
        self.usage_events = self._counter(
            "gateway_proxy_usage_events",
            "Usage events by outcome: queued, published, duplicate, retried, dropped.",
            ["outcome"],
        )
        self.usage_queue_depth = Gauge(
            "gateway_proxy_usage_queue_depth",
            "Usage events waiting to be published.",
            registry=self.registry,
        )
        self.failovers = self._counter(
            "gateway_proxy_failovers",
            "Attempts that failed before the first byte and moved on, by routing verdict.",
            ["verdict"],
        )
        self.breaker_transitions = Counter(
            "gateway_proxy_breaker_transitions",
            "Circuit-breaker state changes, by the state entered.",
            ["state"],
            registry=self.registry,
        )
        self.breaker_state = Gauge(
            "gateway_proxy_breaker_state",
            "Circuit-breaker state per deployment: 0 closed, 1 half-open, 2 open.",
            ["deployment"],
            registry=self.registry,
        )
        self.config_revision = Gauge(
            "gateway_proxy_config_revision",
            "Revision of the config snapshot in use (0 before the first).",
            registry=self.registry,
        )

    def _counter(self, name: str, documentation: str, labels: list[str]) -> Children[Counter]:
        return Children(Counter(name, documentation, labels, registry=self.registry))

    def _histogram(
        self, name: str, documentation: str, labels: list[str], buckets: tuple[float, ...]
    ) -> Children[Histogram]:
        return Children(Histogram(name, documentation, labels, buckets=buckets, registry=self.registry))

    def breaker_transition(self, deployment_id: str, state: BreakerState) -> None:
        """Circuit-breaker hook: count the transition and publish the deployment's state."""
        self.breaker_transitions.labels(state.value).inc()
        self.breaker_state.labels(deployment_id).set(_BREAKER_LEVEL[state])

    def render(self) -> tuple[bytes, str]:
        """The text exposition and its content type, for GET /metrics: every worker's metrics
        when several workers share a multiprocess directory, else this process's registry."""
        if self.multiprocess_dir:
            merged = CollectorRegistry()
            MultiProcessCollector(merged, path=self.multiprocess_dir)  # type: ignore[no-untyped-call]
            return generate_latest(merged), CONTENT_TYPE_LATEST
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
