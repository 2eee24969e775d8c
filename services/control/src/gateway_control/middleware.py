"""ASGI middleware: a request id on every request (logs and response headers) and an access log."""

from __future__ import annotations

import logging
import re
import time
import uuid

from gateway_common.logging import request_id_var
from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

access_log = logging.getLogger("gateway_control.access")

REQUEST_ID_HEADER = "x-request-id"
# Probes are logged at DEBUG so they do not drown the requests people make.
_PROBES = frozenset({"/healthz", "/readyz", "/metrics"})
# A caller's id is kept only when it is short and plain, so it cannot inject into logs.
_ACCEPTABLE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def accepted_request_id(scope: Scope) -> str:
    """The caller's X-Request-ID when it is acceptable, else a new random id."""
    for name, value in scope.get("headers", ()):
        if name == REQUEST_ID_HEADER.encode():
            incoming = value.decode("latin-1")
            if _ACCEPTABLE_ID.match(incoming):
                return incoming
            break
    return uuid.uuid4().hex


def request_id_middleware(app: ASGIApp) -> ASGIApp:
    """Take the caller's X-Request-ID (or make one), expose it to logs, and echo it back."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        request_id = accepted_request_id(scope)
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableScopeHeaders.from_message(message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        token = request_id_var.set(request_id)
        try:
            await app(scope, receive, send_with_id)
        finally:
            path = scope["path"]
            access_log.log(
                logging.DEBUG if path in _PROBES else logging.INFO,
                "%s %s %s",
                scope["method"],
                path,
                status,
                extra={"status": status, "duration_ms": round((time.perf_counter() - started) * 1000, 2)},
            )
            request_id_var.reset(token)

    return middleware
