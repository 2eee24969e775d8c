"""A CLIENT span per provider call, as an httpx transport wrapper (installed only when tracing is on).

The span starts when the request is sent and ends when the response body is closed, so for a
stream it covers the whole generation; the first body chunk is marked with a `first_byte` event
(time to first token, as the provider delivered it). It is a child of the request's SERVER span
because the forwarder sends from the request's own task (contextvars carry the span).

Attributes name the provider call without exposing it: `gen_ai.system` (provider type) and
`gen_ai.request.model` (upstream model) when the request carries them (`UPSTREAM_LABELS`
extension, set by `build_httpx_request`), else the model read from a JSON body; the host and
port; the status. Never the URL's path or query (some providers put a key in the query), a
header, or the body. No trace context is sent to the provider: trace ids stay inside.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import orjson
from opentelemetry import trace

UPSTREAM_LABELS = "gateway.upstream_labels"
# Bodies larger than this are not parsed for their model name (an image upload, say).
_MAX_PROBED_BODY = 256 * 1024


@dataclass(frozen=True, slots=True)
class UpstreamLabels:
    """What the proxy knows about a provider call: the provider's type and the upstream model."""

    provider: str
    model: str


class TracingTransport(httpx.AsyncBaseTransport):
    """Wraps `inner` so that each request is a CLIENT span of `tracer`."""

    def __init__(self, inner: httpx.AsyncBaseTransport, tracer: trace.Tracer) -> None:
        self._inner = inner
        self._tracer = tracer

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send `request` inside a span that ends when the response is closed."""
        span = self._tracer.start_span(
            f"upstream {request.method}",
            kind=trace.SpanKind.CLIENT,
            attributes=_attributes(request),
            record_exception=False,
            set_status_on_exception=False,
        )
        try:
            response = await self._inner.handle_async_request(request)
        except BaseException as exc:
            # Only the type: an exception's text may quote the URL.
            span.set_status(trace.StatusCode.ERROR, type(exc).__name__)
            span.end()
            raise
        span.set_attribute("http.response.status_code", response.status_code)
        if response.status_code >= 400:
            span.set_status(trace.StatusCode.ERROR)
        if isinstance(response.stream, httpx.AsyncByteStream):
            response.stream = _SpanEndingStream(response.stream, span)
        else:
            span.end()
        return response

    async def aclose(self) -> None:
        """Close the wrapped transport (the connection pool)."""
        await self._inner.aclose()


class _SpanEndingStream(httpx.AsyncByteStream):
    """The response body; marks its first chunk and ends the span when closed."""

    def __init__(self, inner: httpx.AsyncByteStream, span: trace.Span) -> None:
        self._inner = inner
        self._span = span
        self._first = True

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._inner:
                if self._first:
                    self._first = False
                    self._span.add_event("first_byte")
                yield chunk
        except BaseException as exc:
            self._span.set_status(trace.StatusCode.ERROR, type(exc).__name__)
            raise

    async def aclose(self) -> None:
        try:
            await self._inner.aclose()
        finally:
            self._span.end()


def _attributes(request: httpx.Request) -> dict[str, str | int]:
    attributes: dict[str, str | int] = {
        "http.request.method": request.method,
        "server.address": request.url.host,
    }
    if request.url.port is not None:
        attributes["server.port"] = request.url.port
    labels = request.extensions.get(UPSTREAM_LABELS)
    if isinstance(labels, UpstreamLabels):
        attributes["gen_ai.system"] = labels.provider
        attributes["gen_ai.request.model"] = labels.model
    elif (model := _model_from_body(request)) is not None:
        attributes["gen_ai.request.model"] = model
    return attributes


def _model_from_body(request: httpx.Request) -> str | None:
    """The `model` field of a JSON request body, if there is one (OpenAI-style providers)."""
    if "json" not in request.headers.get("content-type", ""):
        return None
    try:
        body = request.content
    except httpx.RequestNotRead:
        return None
    if len(body) > _MAX_PROBED_BODY:
        return None
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    model = parsed.get("model") if isinstance(parsed, dict) else None
    return model if isinstance(model, str) else None
