"""`ServerSpanMiddleware`: one OpenTelemetry SERVER span per HTTP request, as pure ASGI.

Added to an app only when tracing is on (`telemetry.active_tracer`), so it costs nothing
otherwise. It continues a W3C `traceparent` sent by the client, makes the span current for the
handlers (the proxy's upstream call and usage publish become its children), names it
`METHOD /route/template` once routing matched, and records the status. It records no header,
query string or body: keys, credentials and prompts never reach a span.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from opentelemetry import propagate, trace

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
# Adds service-specific attributes (request id, model alias) when the request is done.
Describe = Callable[[Scope, trace.Span], None]

_PROPAGATED = (b"traceparent", b"tracestate")


class ServerSpanMiddleware:
    """Wraps every HTTP request of `app` in a SERVER span of `tracer`."""

    def __init__(self, app: ASGIApp, tracer: trace.Tracer, describe: Describe | None = None) -> None:
        self.app = app
        self.tracer = tracer
        self.describe = describe

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        carrier = {
            name.decode("latin-1"): value.decode("latin-1")
            for name, value in scope.get("headers", ())
            if name in _PROPAGATED
        }
        method: str = scope.get("method", "GET")
        with self.tracer.start_as_current_span(
            method,
            context=propagate.extract(carrier),
            kind=trace.SpanKind.SERVER,
            attributes={"http.request.method": method, "url.path": scope.get("path", "")},
            # An exception's text may quote request data: record only its type (below).
            record_exception=False,
            set_status_on_exception=False,
        ) as span:

            async def send_with_status(message: Message) -> None:
                if message["type"] == "http.response.start":
                    status: int = message["status"]
                    span.set_attribute("http.response.status_code", status)
                    if status >= 500:
                        span.set_status(trace.StatusCode.ERROR)
                await send(message)

            try:
                await self.app(scope, receive, send_with_status)
            except BaseException as exc:
                span.set_status(trace.StatusCode.ERROR, type(exc).__name__)
                raise
            finally:
                template = _route_template(scope)
                if template:
                    span.update_name(f"{method} {template}")
                    span.set_attribute("http.route", template)
                if self.describe is not None:
                    self.describe(scope, span)


def _route_template(scope: Scope) -> str | None:
    """The matched route's template: Starlette's `scope["route"].path`, Litestar's `path_template`."""
    route = scope.get("route")
    template = getattr(route, "path", None) or scope.get("path_template")
    return template if isinstance(template, str) else None
