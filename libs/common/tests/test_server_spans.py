"""ServerSpanMiddleware: one SERVER span per HTTP request, named by route template, continuing a
client's traceparent, recording the status and an exception's type (never its text)."""

from __future__ import annotations

import httpx
from gateway_common.server_spans import Scope, ServerSpanMiddleware
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route


async def _item(request: Request) -> PlainTextResponse:
    return PlainTextResponse("ok", status_code=201)


async def _boom(request: Request) -> PlainTextResponse:
    raise RuntimeError("secret detail sk-gw-leak")


def _app() -> tuple[httpx.AsyncClient, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))

    def describe(scope: Scope, span: trace.Span) -> None:
        span.set_attribute("described", True)

    app = Starlette(routes=[Route("/items/{item_id}", _item), Route("/boom", _boom)])
    wrapped = ServerSpanMiddleware(app, provider.get_tracer("test"), describe)
    transport = httpx.ASGITransport(app=wrapped, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://test"), exporter


def _only(exporter: InMemorySpanExporter) -> ReadableSpan:
    spans = exporter.get_finished_spans()
    assert len(spans) == 1
    return spans[0]


async def test_a_request_is_a_server_span_named_by_its_route() -> None:
    client, exporter = _app()
    response = await client.get("/items/42?api_key=secret", headers={"authorization": "Bearer sk-gw-x"})
    assert response.status_code == 201
    span = _only(exporter)
    assert (span.name, span.kind) == ("GET /items/{item_id}", trace.SpanKind.SERVER)
    assert span.attributes is not None
    assert dict(span.attributes) == {
        "http.request.method": "GET",
        "url.path": "/items/42",
        "http.response.status_code": 201,
        "http.route": "/items/{item_id}",
        "described": True,
    }
    assert span.parent is None


async def test_a_client_traceparent_is_continued() -> None:
    client, exporter = _app()
    trace_id, parent_id = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
    await client.get("/items/1", headers={"traceparent": f"00-{trace_id}-{parent_id}-01"})
    span = _only(exporter)
    assert format(span.context.trace_id, "032x") == trace_id
    assert span.parent is not None
    assert format(span.parent.span_id, "016x") == parent_id


async def test_an_exception_is_recorded_by_type_only() -> None:
    client, exporter = _app()
    response = await client.get("/boom")
    assert response.status_code == 500
    span = _only(exporter)
    assert span.status.status_code is trace.StatusCode.ERROR
    assert span.status.description == "RuntimeError"
    assert not span.events
    assert "sk-gw-leak" not in span.to_json()
