"""GET /healthz (alive), /readyz (dependencies reachable), /metrics (Prometheus text)."""

from __future__ import annotations

import msgspec
from gateway_common.telemetry import render_metrics
from litestar import Controller, Response, get
from litestar.status_codes import HTTP_200_OK, HTTP_503_SERVICE_UNAVAILABLE

from gateway_control.state import ControlState


class Liveness(msgspec.Struct):
    """The process is up."""

    status: str


class ReadinessReport(msgspec.Struct):
    """Whether every dependency is usable, and which are not."""

    status: str
    checks: dict[str, bool]
    failing: list[str]


class SystemController(Controller):
    """Probes for Kubernetes and the metrics scrape."""

    tags = ["system"]

    @get("/healthz", operation_id="healthz", summary="Liveness", security=[])
    async def healthz(self) -> Liveness:
        """200 while the process serves requests."""
        return Liveness(status="ok")

    @get("/readyz", operation_id="readyz", summary="Readiness", security=[])
    async def readyz(self, control: ControlState) -> Response[ReadinessReport]:
        """200 when Postgres (migrated), Redis and NATS are reachable; else 503 naming the failing ones."""
        checks = await control.readiness.evaluate()
        failing = sorted(name for name, ok in checks.items() if not ok)
        report = ReadinessReport(status="not_ready" if failing else "ready", checks=checks, failing=failing)
        return Response(report, status_code=HTTP_503_SERVICE_UNAVAILABLE if failing else HTTP_200_OK)

    @get("/metrics", operation_id="metrics", summary="Prometheus metrics", include_in_schema=False)
    async def metrics(self) -> Response[bytes]:
        """The process's metrics in the Prometheus text format."""
        body, content_type = render_metrics()
        return Response(body, media_type=content_type)
