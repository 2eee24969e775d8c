"""The ASGI app: /healthz, /readyz, /metrics, and a lifespan that runs the whole service.

`create_app()` is Granian's factory (`gateway_health.app:create_app --factory`). Called without
arguments it loads the settings and configures JSON logging itself, because Granian's worker
is a fresh process; tests pass their own settings instead.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from gateway_common.logging import configure_logging, request_id_var
from gateway_common.settings import load_settings
from gateway_common.telemetry import configure_tracing
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway_health.ownership import Ownership
from gateway_health.runtime import HealthRuntime
from gateway_health.settings import HealthSettings

REQUEST_ID_HEADER = b"x-request-id"


class RequestIdMiddleware:
    """Puts the caller's X-Request-ID (or a new one) in the logging context and the response."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(REQUEST_ID_HEADER, b"").decode("latin-1")
        request_id = given[:128] or uuid.uuid4().hex
        token = request_id_var.set(request_id)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (REQUEST_ID_HEADER, request_id.encode())]
            await send(message)

        try:
            await self._app(scope, receive, send_with_id)
        finally:
            request_id_var.reset(token)


def create_app(settings: HealthSettings | None = None, ownership: Ownership | None = None) -> Starlette:
    """Build the health service app; `ownership` defaults to KvLeaseOwnership (see lease.py)."""
    if settings is None:
        settings = load_settings(HealthSettings)
        configure_logging(settings.service_name, settings.log_level)
    runtime = HealthRuntime.create(settings, ownership)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        tracer = configure_tracing("gateway-health", settings.otel_exporter_otlp_endpoint, grpc_server=True)
        async with asyncio.TaskGroup() as group:
            try:
                await runtime.start(group)
                yield
            finally:
                # Also after a failed start: whatever did start (the NATS connector) is stopped.
                await runtime.stop()
        if tracer is not None:
            tracer.shutdown()

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> Response:
        checks = await runtime.readiness.evaluate()
        failing = sorted(name for name, ok in checks.items() if not ok)
        body = {"status": "not ready" if failing else "ready", "checks": checks, "failing": failing}
        return JSONResponse(body, status_code=503 if failing else 200)

    async def metrics(request: Request) -> Response:
        payload, content_type = runtime.metrics.render()
        return Response(payload, media_type=content_type)

    app = Starlette(
        routes=[
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            Route("/metrics", metrics, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
    app.add_middleware(RequestIdMiddleware)
    app.state.runtime = runtime
    return app
