"""The fake Azure OpenAI upstream as a Starlette app (`create_azure_fake`).

Paths follow the Azure OpenAI data-plane reference:
`/openai/deployments/{deployment}/{chat/completions|completions|embeddings|images/generations|
audio/speech|audio/transcriptions}?api-version=...` and `GET /openai/models?api-version=...`.
The bodies are OpenAI's (the OpenAI fake's handlers serve them, with `model` set to the
deployment name when the body has none, as Azure reports the deployment's model).

Admission: `api-key: <key>`, or `Authorization: Bearer <token>` (an Entra ID token), else
401 with Azure's `{"error": {"code": "401", "message": "Access denied ..."}}`; a missing or
unknown `api-version` is 404 `Resource not found`, as on the real service.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Final

import orjson
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway_fakes.dialect import Dialect
from gateway_fakes.openai.app import request_log_endpoint
from gateway_fakes.openai.audio import audio_speech, audio_transcriptions
from gateway_fakes.openai.call import BodyKind, FakeCall, FakeContext, Handler, endpoint
from gateway_fakes.openai.chat import chat_completions
from gateway_fakes.openai.completions import completions
from gateway_fakes.openai.embeddings import embeddings
from gateway_fakes.openai.errors import shape_for_status
from gateway_fakes.openai.images import fake_image, images_generations
from gateway_fakes.recorder import RequestLog

DEFAULT_AZURE_KEY: Final = "azure-upstream-test-key"
DEFAULT_AZURE_TOKEN: Final = "entra-upstream-test-token"
API_VERSIONS: Final = frozenset({"2024-10-21", "2024-06-01", "2025-01-01-preview", "2025-04-01-preview"})
_ACCESS_DENIED = (
    "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid "
    "key for an active subscription and use a correct regional API endpoint for your resource."
)

DEPLOYMENT_OPERATIONS: Final[Mapping[str, tuple[Handler, BodyKind]]] = {
    "chat/completions": (chat_completions, BodyKind.JSON),
    "completions": (completions, BodyKind.JSON),
    "embeddings": (embeddings, BodyKind.JSON),
    "images/generations": (images_generations, BodyKind.JSON),
    "audio/speech": (audio_speech, BodyKind.JSON),
    "audio/transcriptions": (audio_transcriptions, BodyKind.FORM),
}


def azure_error(status: int, message: str, headers: Mapping[str, str] | None = None) -> Response:
    """Azure's error JSON: `{"error": {"code": "<status>", "message": ...}}`."""
    body = {"error": {"code": str(status), "message": message}}
    all_headers = {"apim-request-id": secrets.token_hex(16), **(headers or {})}
    return Response(orjson.dumps(body), status, headers=all_headers, media_type="application/json")


def _admit_with(token: str) -> Dialect:
    def admit(request: Request, api_key: str) -> Response | None:
        presented_key = request.headers.get("api-key")
        bearer = request.headers.get("authorization", "")
        key_ok = presented_key is not None and secrets.compare_digest(
            presented_key.encode(), api_key.encode()
        )
        token_ok = bearer.startswith("Bearer ") and secrets.compare_digest(
            bearer.removeprefix("Bearer ").encode(), token.encode()
        )
        if not (key_ok or token_ok):
            return azure_error(401, _ACCESS_DENIED)
        if request.query_params.get("api-version") not in API_VERSIONS:
            return azure_error(404, "Resource not found")
        return None

    def fault_error(status: int, retry_after: str) -> Response:
        headers = {"retry-after": retry_after} if status == 429 else None
        return azure_error(status, shape_for_status(status).message, headers)

    def bad_json() -> Response:
        return azure_error(400, "Invalid JSON body.")

    return Dialect(admit=admit, fault_error=fault_error, bad_json=bad_json)


def _for_deployment(handler: Handler) -> Handler:
    async def run(call: FakeCall) -> Response:
        call.body.setdefault("model", str(call.request.path_params["deployment"]))
        return await handler(call)

    return run


async def _list_models(call: FakeCall) -> Response:
    data = [{"id": "gpt-4o", "object": "model", "created_at": 1_700_000_000, "status": "succeeded"}]
    return Response(orjson.dumps({"object": "list", "data": data}), media_type="application/json")


def create_azure_fake(api_key: str = DEFAULT_AZURE_KEY, bearer_token: str = DEFAULT_AZURE_TOKEN) -> Starlette:
    """Build a fake Azure OpenAI resource accepting `api-key: <api_key>` or `Bearer <bearer_token>`."""
    context = FakeContext(api_key, RequestLog(), _admit_with(bearer_token))
    routes = [
        Route(
            f"/openai/deployments/{{deployment}}/{operation}",
            endpoint(context, _for_deployment(handler), kind),
            methods=["POST"],
        )
        for operation, (handler, kind) in DEPLOYMENT_OPERATIONS.items()
    ]
    routes += [
        Route("/openai/models", endpoint(context, _list_models, BodyKind.NONE), methods=["GET"]),
        Route("/_fake/requests", request_log_endpoint(context.log), methods=["GET", "DELETE"]),
        Route("/_fake/images/pixel.png", fake_image, methods=["GET"], name="fake_image"),
    ]
    app = Starlette(routes=routes, exception_handlers={HTTPException: _http_error})
    app.state.request_log = context.log
    return app


async def _http_error(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, HTTPException):
        raise exc
    return azure_error(exc.status_code, "Resource not found" if exc.status_code == 404 else str(exc.detail))
