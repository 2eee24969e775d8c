"""The fake Vertex AI Gemini endpoint as a Starlette app (`create_vertex_fake`).

`POST /v1/projects/{project}/locations/{location}/publishers/google/models/{model}:generateContent`,
`...:streamGenerateContent[?alt=sse]` (see `generate.py`) and `...:predict` for embedding
models (`predict.py`). Admission: `Authorization: Bearer <token>` with the token it was
started with, else 401 `UNAUTHENTICATED`. Errors are Google's `{"error": {"code", "message",
"status"}}`. It is also the OAuth2 token endpoint that mints that token from its service
account's signed JWT (`POST /token`; the key file at `GET /_fake/service-account.json`:
`oauth.py`).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Final

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway_fakes.dialect import Dialect
from gateway_fakes.openai.app import request_log_endpoint
from gateway_fakes.openai.call import BodyKind, FakeCall, FakeContext, Handler, endpoint
from gateway_fakes.recorder import RequestLog
from gateway_fakes.vertex.errors import UNAUTHENTICATED, bad_json, fault_error, google_error
from gateway_fakes.vertex.generate import generate_content, stream_generate_content
from gateway_fakes.vertex.oauth import ServiceAccount, key_file_endpoint, oauth_error, token_endpoint
from gateway_fakes.vertex.predict import predict

DEFAULT_VERTEX_TOKEN: Final = "ya29.fake-vertex-access-token"
ACTIONS: Final[Mapping[str, Handler]] = {
    "generateContent": generate_content,
    "streamGenerateContent": stream_generate_content,
    "predict": predict,
}


def _admit(request: Request, token: str) -> Response | None:
    presented = request.headers.get("authorization", "")
    if not secrets.compare_digest(presented.encode(), f"Bearer {token}".encode()):
        return google_error(401, UNAUTHENTICATED)
    return None


VERTEX_DIALECT: Final = Dialect(admit=_admit, fault_error=fault_error, bad_json=bad_json)
# The token endpoint authenticates by the assertion in its body, not by a header.
OAUTH_DIALECT: Final = Dialect(
    admit=lambda _request, _key: None,
    fault_error=lambda status, _retry_after: oauth_error("fake_fault", f"HTTP {status}", status),
    bad_json=lambda: oauth_error("invalid_request", "Malformed request body."),
)


async def _model_action(call: FakeCall) -> Response:
    action = str(call.request.path_params["model_action"]).rsplit(":", 1)[-1]
    handler = ACTIONS.get(action)
    if handler is None:
        return google_error(404, f"Method not found: {action}")
    return await handler(call)


def create_vertex_fake(token: str = DEFAULT_VERTEX_TOKEN) -> Starlette:
    """Build a fake Vertex AI Gemini endpoint accepting only `Authorization: Bearer <token>`."""
    log = RequestLog()
    context = FakeContext(token, log, VERTEX_DIALECT)
    oauth = FakeContext(token, log, OAUTH_DIALECT)
    account = ServiceAccount.generate()
    path = "/v1/projects/{project}/locations/{location}/publishers/google/models/{model_action}"
    routes = [
        Route("/token", endpoint(oauth, token_endpoint(account, token), BodyKind.FORM), methods=["POST"]),
        Route(
            "/_fake/service-account.json",
            endpoint(oauth, key_file_endpoint(account), BodyKind.NONE),
            methods=["GET"],
        ),
        Route(path, endpoint(context, _model_action, BodyKind.JSON), methods=["POST"]),
        Route("/_fake/requests", request_log_endpoint(context.log), methods=["GET", "DELETE"]),
    ]
    app = Starlette(routes=routes, exception_handlers={HTTPException: _http_error})
    app.state.request_log = context.log
    return app


async def _http_error(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, HTTPException):
        raise exc
    return google_error(exc.status_code, f"{request.method} {request.url.path}: {exc.detail}")
