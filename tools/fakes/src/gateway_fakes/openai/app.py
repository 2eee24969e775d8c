"""The fake OpenAI upstream as a Starlette app (`create_openai_fake`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

import orjson
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway_fakes.openai.audio import audio_speech, audio_transcriptions
from gateway_fakes.openai.call import BodyKind, FakeContext, Handler, endpoint
from gateway_fakes.openai.chat import chat_completions
from gateway_fakes.openai.completions import completions
from gateway_fakes.openai.embeddings import embeddings
from gateway_fakes.openai.errors import error_response
from gateway_fakes.openai.images import fake_image, images_generations
from gateway_fakes.openai.models import DEFAULT_MODELS, model_handlers
from gateway_fakes.openai.moderations import moderations
from gateway_fakes.recorder import RequestLog

DEFAULT_API_KEY = "sk-upstream-test"


def create_openai_fake(api_key: str = DEFAULT_API_KEY, models: Sequence[str] = DEFAULT_MODELS) -> Starlette:
    """Build a fake OpenAI upstream that accepts only `Authorization: Bearer <api_key>`.

    Every request to `/v1/*` is recorded; read the log at `GET /_fake/requests`
    (optionally `?path=/v1/...`), clear it with `DELETE /_fake/requests`, or in-process
    through `request_log(app)`. Behaviour is steered by `x-fake-*` headers (see faults.py).
    """
    context = FakeContext(api_key, RequestLog())
    list_models, retrieve_model = model_handlers(models)

    def api(path: str, handler: Handler, body: BodyKind, method: str = "POST") -> Route:
        return Route(path, endpoint(context, handler, body), methods=[method])

    routes = [
        api("/v1/models", list_models, BodyKind.NONE, "GET"),
        api("/v1/models/{model:path}", retrieve_model, BodyKind.NONE, "GET"),
        api("/v1/chat/completions", chat_completions, BodyKind.JSON),
        api("/v1/completions", completions, BodyKind.JSON),
        api("/v1/embeddings", embeddings, BodyKind.JSON),
        api("/v1/moderations", moderations, BodyKind.JSON),
        api("/v1/images/generations", images_generations, BodyKind.JSON),
        api("/v1/audio/speech", audio_speech, BodyKind.JSON),
        api("/v1/audio/transcriptions", audio_transcriptions, BodyKind.FORM),
        Route("/_fake/requests", request_log_endpoint(context.log), methods=["GET", "DELETE"]),
        Route("/_fake/images/pixel.png", fake_image, methods=["GET"], name="fake_image"),
    ]
    app = Starlette(routes=routes, exception_handlers={HTTPException: _http_error})
    app.state.request_log = context.log
    return app


def request_log(app: Starlette) -> RequestLog:
    """The request log of an app made by `create_openai_fake` (for in-process tests)."""
    log = app.state.request_log
    if not isinstance(log, RequestLog):
        raise TypeError("app was not created by create_openai_fake")
    return log


def request_log_endpoint(log: RequestLog) -> Callable[[Request], Awaitable[Response]]:
    """`GET /_fake/requests[?path=...]` lists the log; `DELETE` clears it (shared by every fake)."""

    async def handle(request: Request) -> Response:
        if request.method == "DELETE":
            log.clear()
            return Response(status_code=204)
        path = request.query_params.get("path")
        records = [record.to_json() for record in log.records if path is None or record.path == path]
        return Response(orjson.dumps(records), media_type="application/json")

    return handle


async def _http_error(request: Request, exc: Exception) -> Response:
    """Routing and body errors answer in OpenAI's error shape, as the real API does."""
    if not isinstance(exc, HTTPException):
        raise exc
    if exc.status_code in (404, 405):
        message = f"Invalid URL ({request.method} {request.url.path})"
    else:
        message = exc.detail
    return error_response(exc.status_code, message, "invalid_request_error")
