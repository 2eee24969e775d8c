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
    """Ready once Redis and NATS have been reached and a config snapshot is held; 503 names the rest.

    A later Redis or NATS outage is reported as `degraded` but keeps the proxy ready: it goes on
    serving from its snapshot and key cache (docs/operations.md).
    """
    readiness = proxy_state(request).readiness
    checks = await readiness.evaluate()
    failing = sorted(name for name, ok in checks.items() if not ok)
    body = {
        "status": "not_ready" if failing else ("degraded" if readiness.degraded else "ready"),
        "checks": checks,
        "failing": failing,
        "degraded": sorted(readiness.degraded),
    }
    return Response(orjson.dumps(body), status_code=503 if failing else 200, media_type="application/json")


async def metrics(request: Request) -> Response:
    """Prometheus text exposition of this worker's metrics."""
    payload, content_type = proxy_state(request).metrics.render()
    return Response(payload, media_type=content_type)
