"""Prometheus metrics of the health service, on a registry owned by the app (not a module global).

A registry per app keeps two apps in one process (tests) from colliding on metric names; it also
carries the process/platform/GC collectors that the default registry would have had.
"""

from __future__ import annotations

import contextlib

from gateway_proto.v1.health_pb2 import (
    HEALTH_STATUS_HEALTHY,
    HEALTH_STATUS_UNHEALTHY,
    DeploymentHealth,
    ProbeResult,
)
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)

_LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class HealthMetrics:
    """The counters, histograms and gauges the prober updates."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        GCCollector(registry=self.registry)
        self.probes = Counter(
            "gateway_health_probes_total",
            "Active probes sent, by deployment and result (ok or failed).",
            ["deployment", "result"],
            registry=self.registry,
        )
        self.probe_latency = Histogram(
            "gateway_health_probe_latency_seconds",
            "Time from sending a probe to its answer (or failure), by deployment.",
            ["deployment"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.status = Gauge(
            "gateway_health_deployment_status",
            "Current verdict per deployment: 1 healthy, 0 unhealthy, -1 not judged yet.",
            ["deployment"],
            registry=self.registry,
        )
        self.write_conflicts = Counter(
            "gateway_health_write_conflicts_total",
            "Health records another writer updated between our read and our write.",
            registry=self.registry,
        )
        self.publish_failures = Counter(
            "gateway_health_publish_failures_total",
            "Probe results that could not be written to the KV bucket (NATS unavailable).",
            registry=self.registry,
        )

    def observe_probe(self, deployment_id: str, result: ProbeResult) -> None:
        """Count one probe and its latency."""
        self.probes.labels(deployment_id, "ok" if result.ok else "failed").inc()
        self.probe_latency.labels(deployment_id).observe(result.latency_ms / 1000)

    def observe_status(self, health: DeploymentHealth) -> None:
        """Record a deployment's current verdict."""
        verdict = {HEALTH_STATUS_HEALTHY: 1, HEALTH_STATUS_UNHEALTHY: 0}.get(health.status, -1)
        self.status.labels(health.deployment_id).set(verdict)

    def forget(self, deployment_id: str) -> None:
        """Drop the series of a deployment that is no longer probed."""
        series: list[tuple[Counter | Histogram | Gauge, tuple[str, ...]]] = [
            (self.probes, (deployment_id, "ok")),
            (self.probes, (deployment_id, "failed")),
            (self.probe_latency, (deployment_id,)),
            (self.status, (deployment_id,)),
        ]
        for metric, labels in series:
            # remove() raises KeyError for a series never recorded, which is expected here.
            with contextlib.suppress(KeyError):
                metric.remove(*labels)

    def render(self) -> tuple[bytes, str]:
        """The text exposition and its content type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
