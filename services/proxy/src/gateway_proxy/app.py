"""`create_app()`: the proxy's Starlette application (Granian's factory target).

Routes, the request-context middleware (request id, overhead header, metrics), OpenAI-shaped
error rendering for everything (including unknown URLs and methods), and the lifespan that
owns the upstream pool, Redis, NATS, the snapshot follower, the key cache and the usage
publisher.
"""

from __future__ import annotations

from gateway_common.logging import configure_logging
from gateway_common.settings import load_settings
from gateway_common.telemetry import configure_tracing
from gateway_providers import Endpoint
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway_proxy.context import RequestContextMiddleware
from gateway_proxy.errors import GatewayError, MethodNotAllowed, NotFound
from gateway_proxy.lifespan import make_lifespan
from gateway_proxy.metrics import ProxyMetrics
from gateway_proxy.routes.chat import chat_completions
from gateway_proxy.routes.endpoints import json_endpoint, transcription_endpoint
from gateway_proxy.routes.health import healthz, metrics, readyz
from gateway_proxy.routes.models import list_models, retrieve_model
from gateway_proxy.settings import ProxySettings


def create_app(settings: ProxySettings | None = None) -> Starlette:
    """Build the proxy app; settings are loaded from the environment when not given."""
    if settings is None:
        settings = load_settings(ProxySettings)
        configure_logging(settings.service_name, settings.log_level)
        configure_tracing(settings.service_name, settings.otel_exporter_otlp_endpoint)
    proxy_metrics = ProxyMetrics()
    routes = [
        Route("/v1/chat/completions", chat_completions, methods=["POST"]),
        Route("/v1/completions", json_endpoint(Endpoint.COMPLETIONS), methods=["POST"]),
        Route("/v1/embeddings", json_endpoint(Endpoint.EMBEDDINGS), methods=["POST"]),
        Route("/v1/images/generations", json_endpoint(Endpoint.IMAGES_GENERATIONS), methods=["POST"]),
        Route("/v1/audio/speech", json_endpoint(Endpoint.AUDIO_SPEECH), methods=["POST"]),
        Route("/v1/audio/transcriptions", transcription_endpoint(), methods=["POST"]),
        Route("/v1/moderations", json_endpoint(Endpoint.MODERATIONS), methods=["POST"]),
        Route("/v1/models", list_models, methods=["GET"]),
        Route("/v1/models/{model_id:path}", retrieve_model, methods=["GET"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
    ]
    return Starlette(
        routes=routes,
        middleware=[
            Middleware(
                RequestContextMiddleware,
                metrics=proxy_metrics,
                max_headers=settings.max_headers,
                max_header_bytes=settings.max_header_bytes,
            )
        ],
        exception_handlers={GatewayError: _gateway_error, HTTPException: _http_error},
        lifespan=make_lifespan(settings, proxy_metrics),
    )


async def _gateway_error(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, GatewayError):
        raise exc
    return exc.response()


async def _http_error(request: Request, exc: Exception) -> Response:
    """Unknown URLs and wrong methods, in OpenAI's wording and error shape."""
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    message = f"Invalid URL ({request.method} {request.url.path})"
    if status == 405:
        return MethodNotAllowed(message).response()
    if status == 404:
        return NotFound(message, code="unknown_url").response()
    return GatewayError(message, status=status, type="invalid_request_error", code=None).response()
