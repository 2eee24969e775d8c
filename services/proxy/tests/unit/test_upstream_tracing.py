"""The provider-call span: labels, end at body close, errors by type only, nothing secret."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from gateway_common.server_spans import ServerSpanMiddleware
from gateway_common.telemetry import active_tracer
from gateway_providers import UpstreamRequest
from gateway_proxy.app import create_app
from gateway_proxy.settings import ProxySettings
from gateway_proxy.upstream import PooledUpstream, SendOptions, UpstreamLabels, create_upstream
from gateway_proxy.upstream_tracing import TracingUpstream, traced
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

SECRET_URL = "http://provider.test:8443/v1/chat/completions?key=sk-secret-in-query"
BODY = b'{"model":"gpt-4o-mini","messages":[{"role":"user","content":"prompt text"}]}'


class _Body(httpx.AsyncByteStream):
    """A body that streams, as the real (aiohttp) transport's does."""

    def __init__(self, *chunks: bytes) -> None:
        self._chunks = chunks

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self._chunks:
            yield chunk


class _Fake:
    """An upstream answering every request with `answer(request)`."""

    def __init__(self, answer: Callable[[UpstreamRequest], httpx.Response]) -> None:
        self._answer = answer

    async def send(self, request: UpstreamRequest, options: SendOptions) -> httpx.Response:
        return self._answer(request)

    async def aclose(self) -> None:
        return None


def _traced(inner: _Fake) -> tuple[TracingUpstream, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return TracingUpstream(inner, provider.get_tracer("test")), exporter


def _chat(headers: list[tuple[str, str]]) -> UpstreamRequest:
    return UpstreamRequest(method="POST", url=SECRET_URL, headers=headers, body=BODY)


def _only(exporter: InMemorySpanExporter) -> ReadableSpan:
    spans = exporter.get_finished_spans()
    assert len(spans) == 1
    return spans[0]


async def test_the_span_ends_when_the_body_is_closed_and_names_the_model() -> None:
    client, exporter = _traced(_Fake(lambda request: httpx.Response(200, stream=_Body(b"data: x\n\n"))))
    request = _chat([("content-type", "application/json"), ("authorization", "Bearer k")])
    response = await client.send(request, SendOptions(1.0, 1.0, stream=True))
    assert not exporter.get_finished_spans()  # still streaming
    assert [chunk async for chunk in response.aiter_bytes()]
    await response.aclose()
    span = _only(exporter)
    assert span.attributes is not None
    assert dict(span.attributes) == {
        "http.request.method": "POST",
        "server.address": "provider.test",
        "server.port": 8443,
        "gen_ai.request.model": "gpt-4o-mini",
        "http.response.status_code": 200,
    }
    assert [event.name for event in span.events] == ["first_byte"]


async def test_the_span_of_a_body_read_whole_ends_when_the_call_returns() -> None:
    """A buffered answer is already closed: its span must end with the call, not wait for a close."""
    client, exporter = _traced(_Fake(lambda request: httpx.Response(200, content=b'{"id":"x"}')))
    request = _chat([("content-type", "application/json")])
    response = await client.send(request, SendOptions(1.0, 1.0, buffered=True))
    assert response.content == b'{"id":"x"}'
    await response.aclose()
    span = _only(exporter)
    assert span.attributes is not None
    assert span.attributes["http.response.status_code"] == 200


async def test_labels_from_the_request_win_over_the_body() -> None:
    client, exporter = _traced(_Fake(lambda request: httpx.Response(429, stream=_Body(b"{}"))))
    request = _chat([("content-type", "application/json")])
    labels = UpstreamLabels("anthropic", "claude")
    response = await client.send(request, SendOptions(1.0, 1.0, labels=labels))
    assert response.status_code == 429
    await response.aclose()
    span = _only(exporter)
    assert span.attributes is not None
    assert (span.attributes["gen_ai.system"], span.attributes["gen_ai.request.model"]) == (
        "anthropic",
        "claude",
    )
    assert span.status.status_code is StatusCode.ERROR


async def test_a_transport_error_is_recorded_by_type_only() -> None:
    def refuse(request: UpstreamRequest) -> httpx.Response:
        raise httpx.ConnectError(f"cannot reach {request.url}")

    client, exporter = _traced(_Fake(refuse))
    with pytest.raises(httpx.ConnectError):
        await client.send(_chat([("content-type", "application/json")]), SendOptions(1.0, 1.0))
    span = _only(exporter)
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == "ConnectError"
    assert not span.events
    text = repr(span.to_json())
    assert "sk-secret-in-query" not in text
    assert "prompt text" not in text


async def test_without_tracing_nothing_is_wrapped() -> None:
    """Tracing is off by default: no tracer, the pool unwrapped, no server-span middleware."""
    settings = ProxySettings(redis_url="redis://r", nats_url="nats://n", key_pepper="p", dataplane_key="k")
    assert active_tracer("gateway_proxy") is None
    client = traced(create_upstream(settings))
    assert isinstance(client, PooledUpstream)
    await client.aclose()
    app = create_app(settings)
    assert not isinstance(app, ServerSpanMiddleware)
