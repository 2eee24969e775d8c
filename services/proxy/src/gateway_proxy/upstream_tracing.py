"""A CLIENT span per provider call, as a wrapper of the upstream (installed only when tracing is on).

The span starts when the request is sent and ends when the response body is closed (or, for a
body the call read whole, when the call returns), so for a stream it covers the whole
generation; the first body chunk is marked with a `first_byte` event (time to first token, as
the provider delivered it). It is a child of the request's SERVER span
because the forwarder sends from the request's own task (contextvars carry the span).

Attributes name the provider call without exposing it: `gen_ai.system` (provider type) and
`gen_ai.request.model` (upstream model) when the forwarder labels the call, else the model read
from a JSON body; the host and port; the status. Never the URL's path or query (some providers
put a key in the query), a header, or the body. No trace context is sent to the provider: trace
ids stay inside.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from urllib.parse import urlsplit

import orjson
from gateway_common.telemetry import active_tracer
from gateway_providers import UpstreamRequest
from opentelemetry import trace

from gateway_proxy.upstream import SendOptions, Upstream, UpstreamLabels
from gateway_proxy.upstream_answer import UpstreamAnswer

# Bodies larger than this are not parsed for their model name (an image upload, say).
_MAX_PROBED_BODY = 256 * 1024


def traced(upstream: Upstream) -> Upstream:
    """`upstream` wrapped in `TracingUpstream` when tracing is configured, else itself."""
    tracer = active_tracer(__name__)
    return upstream if tracer is None else TracingUpstream(upstream, tracer)


class TracingUpstream:
    """Wraps `inner` so that each request is a CLIENT span of `tracer`."""

    def __init__(self, inner: Upstream, tracer: trace.Tracer) -> None:
        self._inner = inner
        self._tracer = tracer

    async def send(self, request: UpstreamRequest, options: SendOptions) -> UpstreamAnswer:
        """Send `request` inside a span that ends when the response is closed."""
        span = self._tracer.start_span(
            f"upstream {request.method}",
            kind=trace.SpanKind.CLIENT,
            attributes=_attributes(request, options.labels),
            record_exception=False,
            set_status_on_exception=False,
        )
        try:
            response = await self._inner.send(request, options)
        except BaseException as exc:
            # Only the type: an exception's text may quote the URL.
            span.set_status(trace.StatusCode.ERROR, type(exc).__name__)
            span.end()
            raise
        span.set_attribute("http.response.status_code", response.status_code)
        if response.status_code >= 400:
            span.set_status(trace.StatusCode.ERROR)
        if response.is_stream_consumed:  # a body read whole by the call (SendOptions.buffered)
            span.end()
            return response
        return _SpanEndingAnswer(response, span)

    async def aclose(self) -> None:
        """Close the wrapped upstream (the connection pool)."""
        await self._inner.aclose()


class _SpanEndingAnswer:
    """The answer whose body is still to come; marks its first chunk and ends the span when closed."""

    def __init__(self, inner: UpstreamAnswer, span: trace.Span) -> None:
        self._inner = inner
        self._span = span
        self._content: bytes | None = None  # read through `aread`, past the first-byte mark

    @property
    def status_code(self) -> int:
        return self._inner.status_code

    @property
    def headers(self) -> Mapping[str, str]:
        return self._inner.headers

    @property
    def is_stream_consumed(self) -> bool:
        return self._inner.is_stream_consumed

    @property
    def content(self) -> bytes:
        return self._inner.content if self._content is None else self._content

    async def aiter_bytes(self) -> AsyncIterator[bytes]:
        first = True
        try:
            async for chunk in self._inner.aiter_bytes():
                if first:
                    first = False
                    self._span.add_event("first_byte")
                yield chunk
        except BaseException as exc:
            self._span.set_status(trace.StatusCode.ERROR, type(exc).__name__)
            raise

    async def aread(self) -> bytes:
        if self._content is None:
            self._content = b"".join([chunk async for chunk in self.aiter_bytes()])
        return self._content

    async def aclose(self) -> None:
        try:
            await self._inner.aclose()
        finally:
            self._span.end()


def _attributes(request: UpstreamRequest, labels: UpstreamLabels | None) -> dict[str, str | int]:
    url = urlsplit(request.url)
    attributes: dict[str, str | int] = {
        "http.request.method": request.method,
        "server.address": url.hostname or "",
    }
    if url.port is not None:
        attributes["server.port"] = url.port
    if labels is not None:
        attributes["gen_ai.system"] = labels.provider
        attributes["gen_ai.request.model"] = labels.model
    elif (model := _model_from_body(request)) is not None:
        attributes["gen_ai.request.model"] = model
    return attributes


def _model_from_body(request: UpstreamRequest) -> str | None:
    """The `model` field of a JSON request body, if there is one (OpenAI-style providers)."""
    if "json" not in (request.header("content-type") or ""):
        return None
    body = request.body
    if body is None or len(body) > _MAX_PROBED_BODY:
        return None
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    model = parsed.get("model") if isinstance(parsed, dict) else None
    return model if isinstance(model, str) else None
