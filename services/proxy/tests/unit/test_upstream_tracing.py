"""The provider-call span: labels, end at body close, errors by type only, nothing secret."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from gateway_common.server_spans import ServerSpanMiddleware
from gateway_common.telemetry import active_tracer
from gateway_proxy.aiohttp_transport import GatewayAiohttpTransport
from gateway_proxy.app import create_app
from gateway_proxy.settings import ProxySettings
from gateway_proxy.upstream import create_upstream_client
from gateway_proxy.upstream_tracing import UPSTREAM_LABELS, TracingTransport, UpstreamLabels
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


def _traced(handler: httpx.MockTransport) -> tuple[httpx.AsyncClient, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    transport = TracingTransport(handler, provider.get_tracer("test"))
    return httpx.AsyncClient(transport=transport), exporter


def _only(exporter: InMemorySpanExporter) -> ReadableSpan:
    spans = exporter.get_finished_spans()
    assert len(spans) == 1
    return spans[0]


async def test_the_span_ends_when_the_body_is_closed_and_names_the_model() -> None:
    client, exporter = _traced(
        httpx.MockTransport(lambda request: httpx.Response(200, stream=_Body(b"data: x\n\n")))
    )
    request = client.build_request(
        "POST",
        SECRET_URL,
        content=BODY,
        headers={"content-type": "application/json", "authorization": "Bearer k"},
    )
    response = await client.send(request, stream=True)
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


async def test_labels_from_the_request_win_over_the_body() -> None:
    client, exporter = _traced(httpx.MockTransport(lambda request: httpx.Response(429, stream=_Body(b"{}"))))
    request = client.build_request(
        "POST", SECRET_URL, content=BODY, extensions={UPSTREAM_LABELS: UpstreamLabels("anthropic", "claude")}
    )
    response = await client.send(request)
    assert response.status_code == 429
    span = _only(exporter)
    assert span.attributes is not None
    assert (span.attributes["gen_ai.system"], span.attributes["gen_ai.request.model"]) == (
        "anthropic",
        "claude",
    )
    assert span.status.status_code is StatusCode.ERROR


async def test_a_transport_error_is_recorded_by_type_only() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"cannot reach {request.url}")

    client, exporter = _traced(httpx.MockTransport(refuse))
    with pytest.raises(httpx.ConnectError):
        await client.post(SECRET_URL, content=BODY, headers={"content-type": "application/json"})
    span = _only(exporter)
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == "ConnectError"
    assert not span.events
    text = repr(span.to_json())
    assert "sk-secret-in-query" not in text
    assert "prompt text" not in text


async def test_without_tracing_nothing_is_wrapped() -> None:
    """Tracing is off by default: no tracer, the pool's transport unwrapped, no server-span middleware."""
    settings = ProxySettings(redis_url="redis://r", nats_url="nats://n", key_pepper="p", dataplane_key="k")
    assert active_tracer("gateway_proxy") is None
    client = create_upstream_client(settings)
    assert isinstance(client._transport, GatewayAiohttpTransport)
    await client.aclose()
    app = create_app(settings)
    assert all(m.cls is not ServerSpanMiddleware for m in app.user_middleware)
