"""Operational endpoints: /healthz (alive), /readyz (dependencies + snapshot), /metrics."""

from __future__ import annotations

import orjson
from starlette.requests import Request
from starlette.responses import Response

from gateway_proxy.state import proxy_state


async def healthz(request: Request) -> Response:
    """Alive: the process answers HTTP (no dependency is checked)."""
    return Response(b'{"status":"ok"}', media_type="application/json")


async def readyz(request: Request) -> Response:
    """Ready when Redis answers, NATS is connected and a config snapshot is held; 503 names the rest."""
    checks = await proxy_state(request).readiness.evaluate()
    failing = sorted(name for name, ok in checks.items() if not ok)
    body = {"status": "not_ready" if failing else "ready", "checks": checks, "failing": failing}
    return Response(orjson.dumps(body), status_code=503 if failing else 200, media_type="application/json")


async def metrics(request: Request) -> Response:
    """Prometheus text exposition of this worker's metrics."""
    payload, content_type = proxy_state(request).metrics.render()
    return Response(payload, media_type=content_type)
