"""FastRoutes: parameterless routes served ahead of Starlette, answering exactly as Starlette would."""

from __future__ import annotations

from collections.abc import AsyncIterator
from functools import partial

import httpx
import pytest
from gateway_proxy.context import RequestContextMiddleware
from gateway_proxy.errors import GatewayError, NotFound, RateLimited
from gateway_proxy.fast_routes import ExceptionHandler, FastRoutes
from gateway_proxy.metrics import ProxyMetrics
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route


async def _ok(request: Request) -> Response:
    # Starlette's router marks the scopes it dispatches; FastRoutes does not go through it.
    return JSONResponse({"route": request.scope["route"].path, "via_router": "router" in request.scope})


async def _refused(request: Request) -> Response:
    raise RateLimited("slow down", headers={"retry-after": "3"})


async def _broken(request: Request) -> Response:
    raise RuntimeError("a bug")


async def _fails_mid_stream(request: Request) -> Response:
    async def body() -> AsyncIterator[bytes]:
        yield b"first"
        raise NotFound("too late to answer with a status")

    return StreamingResponse(body())


async def _item(request: Request) -> Response:
    return JSONResponse({"item": request.path_params["item_id"], "via_router": "router" in request.scope})


def _app(metrics: ProxyMetrics) -> FastRoutes:
    routes = [
        Route("/ok", _ok, methods=["POST"]),
        Route("/refused", _refused, methods=["POST"]),
        Route("/broken", _broken, methods=["POST"]),
        Route("/stream", _fails_mid_stream, methods=["GET"]),
        Route("/items/{item_id}", _item, methods=["GET"]),
    ]

    async def gateway_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, GatewayError)
        metrics.error_responses.labels(exc.code or "none").inc()
        return exc.response()

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return JSONResponse({"starlette": exc.status_code}, status_code=exc.status_code)

    handlers: dict[type[Exception], ExceptionHandler] = {
        GatewayError: gateway_error,
        HTTPException: http_error,
    }
    context = partial(RequestContextMiddleware, metrics=metrics)
    fallback = Starlette(routes=routes, middleware=[Middleware(context)], exception_handlers=dict(handlers))
    return FastRoutes(fallback, routes, handlers, wrap=context)


@pytest.fixture
def metrics() -> ProxyMetrics:
    return ProxyMetrics()


@pytest.fixture
async def client(metrics: ProxyMetrics) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=_app(metrics))
    async with httpx.AsyncClient(transport=transport, base_url="http://proxy") as client:
        yield client


def _count(metrics: ProxyMetrics, route: str, status: str) -> float:
    value = metrics.registry.get_sample_value(
        "gateway_proxy_requests_total", {"route": route, "model": "unknown", "status": status}
    )
    return value or 0.0


async def test_a_fixed_route_is_served_with_the_context_headers_and_metrics(
    client: httpx.AsyncClient, metrics: ProxyMetrics
) -> None:
    response = await client.post("/ok", headers={"x-request-id": "req-1"})
    assert response.status_code == 200
    assert response.json() == {"route": "/ok", "via_router": False}
    assert response.headers["x-request-id"] == "req-1"
    assert float(response.headers["x-gateway-overhead-ms"]) >= 0
    assert _count(metrics, "/ok", "200") == 1


async def test_a_gateway_error_is_rendered_by_its_handler(
    client: httpx.AsyncClient, metrics: ProxyMetrics
) -> None:
    response = await client.post("/refused")
    assert response.status_code == 429
    assert response.headers["retry-after"] == "3"
    assert response.json()["error"]["code"] == "rate_limit_exceeded"
    assert response.headers["x-request-id"]
    assert metrics.registry.get_sample_value(
        "gateway_proxy_error_responses_total", {"code": "rate_limit_exceeded"}
    )
    assert _count(metrics, "/refused", "429") == 1


async def test_an_unexpected_error_is_a_500_in_openai_shape(client: httpx.AsyncClient) -> None:
    response = await client.post("/broken")
    assert response.status_code == 500
    assert response.json()["error"]["type"] == "server_error"
    assert response.headers["x-request-id"]


async def test_an_error_after_the_response_started_is_not_rendered(client: httpx.AsyncClient) -> None:
    with pytest.raises(NotFound):
        await client.get("/stream")


async def test_other_requests_go_to_starlette(client: httpx.AsyncClient, metrics: ProxyMetrics) -> None:
    item = await client.get("/items/a1")
    assert item.json() == {"item": "a1", "via_router": True}
    assert item.headers["x-request-id"]
    assert _count(metrics, "/items/{item_id}", "200") == 1
    wrong_method = await client.get("/ok")
    assert wrong_method.status_code == 405
    assert wrong_method.json() == {"starlette": 405}
    unknown = await client.post("/nowhere")
    assert unknown.status_code == 404
    assert unknown.json() == {"starlette": 404}
