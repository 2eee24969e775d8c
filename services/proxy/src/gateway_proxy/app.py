"""`create_app()`: the proxy's ASGI application (Granian's factory target).

Routes (the OpenAI API's and the Anthropic Messages API's), the Messages API's response shapes
on its paths, the request-context middleware (request id, overhead header, metrics), OpenAI-shaped
error rendering for everything (including unknown URLs and methods), and the lifespan that
owns the upstream pool, Redis, NATS, the snapshot follower, the key cache and the usage
publisher. The routes without path parameters are served by `FastRoutes` ahead of Starlette's
middleware stack; the others, and the lifespan, by the Starlette app behind it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial

from gateway_common.logging import configure_logging, tenant_id_var
from gateway_common.server_spans import ServerSpanMiddleware
from gateway_common.settings import load_settings
from gateway_common.telemetry import active_tracer, configure_tracing
from gateway_providers import Endpoint
from opentelemetry.trace import Span
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Scope

from gateway_proxy.context import SCOPE_KEY, RequestContext, RequestContextMiddleware
from gateway_proxy.errors import GatewayError, MethodNotAllowed, NotFound
from gateway_proxy.fast_routes import ExceptionHandler, FastRoutes
from gateway_proxy.lifespan import make_lifespan
from gateway_proxy.messages_api.shape import COUNT_TOKENS_PATH, MESSAGES_PATH, MessagesShape
from gateway_proxy.metrics import ProxyMetrics
from gateway_proxy.routes.chat import chat_completions
from gateway_proxy.routes.endpoints import json_endpoint, transcription_endpoint
from gateway_proxy.routes.health import healthz, metrics, readyz
from gateway_proxy.routes.messages import count_tokens, create_message
from gateway_proxy.routes.models import list_models, retrieve_model
from gateway_proxy.settings import ProxySettings


def create_app(settings: ProxySettings | None = None) -> ASGIApp:
    """Build the proxy app; settings are loaded from the environment when not given."""
    if settings is None:
        settings = load_settings(ProxySettings)
        configure_logging(settings.service_name, settings.log_level)
        configure_tracing(settings.service_name, settings.otel_exporter_otlp_endpoint)
    proxy_metrics = ProxyMetrics(settings.prometheus_multiproc_dir)
    routes = [
        Route("/v1/chat/completions", chat_completions, methods=["POST"]),
        Route("/v1/completions", json_endpoint(Endpoint.COMPLETIONS), methods=["POST"]),
        Route("/v1/embeddings", json_endpoint(Endpoint.EMBEDDINGS), methods=["POST"]),
        Route("/v1/images/generations", json_endpoint(Endpoint.IMAGES_GENERATIONS), methods=["POST"]),
        Route("/v1/audio/speech", json_endpoint(Endpoint.AUDIO_SPEECH), methods=["POST"]),
        Route("/v1/audio/transcriptions", transcription_endpoint(), methods=["POST"]),
        Route("/v1/moderations", json_endpoint(Endpoint.MODERATIONS), methods=["POST"]),
        Route(MESSAGES_PATH, create_message, methods=["POST"]),
        Route(COUNT_TOKENS_PATH, count_tokens, methods=["POST"]),
        Route("/v1/models", list_models, methods=["GET"]),
        Route("/v1/models/{model_id:path}", retrieve_model, methods=["GET"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
    ]
    context = partial(
        RequestContextMiddleware,
        metrics=proxy_metrics,
        max_headers=settings.max_headers,
        max_header_bytes=settings.max_header_bytes,
    )
    handlers: dict[type[Exception], ExceptionHandler] = {
        GatewayError: _counting_gateway_errors(proxy_metrics),
        HTTPException: _http_error,
    }
    fallback = Starlette(
        routes=routes,
        middleware=[Middleware(context)],
        exception_handlers=dict(handlers),
        lifespan=make_lifespan(settings, proxy_metrics),
    )
    # The Messages API's shapes on its own paths (a string check on every other request).
    app: ASGIApp = MessagesShape(FastRoutes(fallback, routes, handlers, wrap=context))
    tracer = active_tracer("gateway_proxy")
    if tracer is not None:
        # Outermost, and only when tracing is on: the span covers the whole request.
        app = ServerSpanMiddleware(app, tracer=tracer, describe=_describe_request)
    return app


def _describe_request(scope: Scope, span: Span) -> None:
    """Label the request's span with the ids its logs carry and the model alias it asked for."""
    context = scope.get(SCOPE_KEY)
    if isinstance(context, RequestContext):
        span.set_attribute("gateway.request_id", context.request_id)
        span.set_attribute("gateway.model", context.model_label)
        if context.overhead_s is not None:
            span.set_attribute("gateway.overhead_ms", round(context.overhead_s * 1000, 3))
    tenant_id = tenant_id_var.get()
    if tenant_id:
        span.set_attribute("gateway.tenant_id", tenant_id)


def _counting_gateway_errors(metrics: ProxyMetrics) -> Callable[[Request, Exception], Awaitable[Response]]:
    """The handler rendering a raised GatewayError, counting it by code (refusals included)."""

    async def gateway_error(request: Request, exc: Exception) -> Response:
        if not isinstance(exc, GatewayError):
            raise exc
        metrics.error_responses.labels(exc.code or "none").inc()
        return exc.response()

    return gateway_error


async def _http_error(request: Request, exc: Exception) -> Response:
    """Unknown URLs and wrong methods, in OpenAI's wording and error shape."""
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    message = f"Invalid URL ({request.method} {request.url.path})"
    if status == 405:
        return MethodNotAllowed(message).response()
    if status == 404:
        return NotFound(message, code="unknown_url").response()
    return GatewayError(message, status=status, type="invalid_request_error", code=None).response()
