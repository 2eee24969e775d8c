"""Per-request context: the request id, timing, and the headers every response carries.

`RequestContextMiddleware` (pure ASGI, outermost) gives each request a `RequestContext`,
keeps a sane client-supplied `x-request-id` (≤ 128 chars of [A-Za-z0-9._-]) or makes one of
128 random bits in hex (the shape of a uuid4 hex, without building a UUID object), puts it in
the logging context, and adds `x-request-id` and `x-gateway-overhead-ms` to the response start.
Overhead is the time from arrival to the response start minus the time spent waiting on the
upstream (`RequestContext.upstream_s`, which the forwarder adds to). For a stream that is the
time to its first byte; relaying events afterwards is not counted.
"""

from __future__ import annotations

import logging
import os
import re
import time
from dataclasses import dataclass, field

from gateway_common.logging import key_id_var, request_id_var, tenant_id_var
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway_proxy.errors import GatewayError, HeadersTooLarge
from gateway_proxy.metrics import ProxyMetrics

log = logging.getLogger(__name__)

SCOPE_KEY = "gateway_proxy.context"
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")


def choose_request_id(client_value: str | None) -> str:
    """Keep the client's request id when it is a sane token, else 32 random hex digits."""
    if client_value and _SANE_REQUEST_ID.fullmatch(client_value):
        return client_value
    return os.urandom(16).hex()


@dataclass(slots=True)
class RequestContext:
    """What the gateway learns about one request while serving it."""

    request_id: str
    started: float = field(default_factory=time.perf_counter)
    started_unix: float = field(default_factory=time.time)
    upstream_s: float = 0.0
    overhead_s: float | None = None
    model_label: str = "unknown"
    status: int = 0

    def add_upstream_time(self, seconds: float) -> None:
        """Count `seconds` as spent waiting on a provider (excluded from the overhead)."""
        self.upstream_s += seconds


def request_context(scope: Scope) -> RequestContext:
    """The context the middleware attached to this request's scope."""
    context: RequestContext = scope[SCOPE_KEY]
    return context


class RequestContextMiddleware:
    """Outermost middleware: request id, overhead header, request metrics."""

    def __init__(
        self,
        app: ASGIApp,
        metrics: ProxyMetrics,
        *,
        max_headers: int = 64,
        max_header_bytes: int = 32 * 1024,
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.max_headers = max_headers
        self.max_header_bytes = max_header_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        context = RequestContext(choose_request_id(_header(scope, b"x-request-id")))
        scope[SCOPE_KEY] = context
        request_id_var.set(context.request_id)
        tenant_id_var.set(None)
        key_id_var.set(None)
        request_id_header = context.request_id.encode()

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                context.status = message["status"]
                context.overhead_s = max(0.0, time.perf_counter() - context.started - context.upstream_s)
                headers = [
                    (name, value)
                    for name, value in message.get("headers", ())
                    if name.lower() not in (b"x-request-id", b"x-gateway-overhead-ms")
                ]
                headers.append((b"x-request-id", request_id_header))
                headers.append((b"x-gateway-overhead-ms", f"{context.overhead_s * 1000:.3f}".encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            oversized = _header_limit_error(scope["headers"], self.max_headers, self.max_header_bytes)
            if oversized is not None:
                await oversized.response()(scope, receive, send_with_headers)
                return
            await self.app(scope, receive, send_with_headers)
        except Exception:
            # Starlette's ServerErrorMiddleware sits outside this one and would answer in plain
            # text without our headers; answer here in OpenAI's shape unless a response started.
            if context.status:
                raise
            log.exception("unhandled error while serving a request")
            failure = GatewayError("The gateway hit an internal error.").response()
            await failure(scope, receive, send_with_headers)
        finally:
            self._observe(scope, context)

    def _observe(self, scope: Scope, context: RequestContext) -> None:
        route = scope.get("route")
        label = getattr(route, "path", "unmatched")
        self.metrics.requests.labels(label, context.model_label, str(context.status or 500)).inc()
        self.metrics.request_duration.labels(label).observe(time.perf_counter() - context.started)
        if context.overhead_s is not None:
            self.metrics.overhead.labels(label).observe(context.overhead_s)


def _header_limit_error(
    headers: list[tuple[bytes, bytes]], max_headers: int, max_bytes: int
) -> HeadersTooLarge | None:
    """431 when the request has too many headers or too many header bytes, else None."""
    if len(headers) > max_headers:
        return HeadersTooLarge(
            f"The request has {len(headers)} headers; the gateway accepts at most {max_headers}."
        )
    size = 0
    for name, value in headers:
        size += len(name) + len(value) + 4  # ": " and CRLF, as on the wire
    if size > max_bytes:
        return HeadersTooLarge(f"The request headers exceed the gateway's limit of {max_bytes} bytes.")
    return None


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            decoded: str = value.decode("latin-1")
            return decoded
    return None
