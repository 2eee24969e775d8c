"""The fake Anthropic upstream as a Starlette app (`create_anthropic_fake`).

Admission follows the API reference: the configured key in `x-api-key` (what the
reference documents and the gateway sends) or `Authorization: Bearer` (what the official
Python SDK 2.x sends), else 401 `authentication_error`; `anthropic-version` must be
present and a `YYYY-MM-DD` date (400 `invalid_request_error` otherwise). Faults,
recording and streaming come from the shared machinery (see `openai/faults.py`).
"""

from __future__ import annotations

import re
import secrets
from typing import Final

import orjson
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway_fakes.anthropic.errors import anthropic_error, bad_json, fault_error, invalid
from gateway_fakes.anthropic.messages import messages
from gateway_fakes.dialect import Dialect
from gateway_fakes.openai.app import request_log_endpoint
from gateway_fakes.openai.call import BodyKind, FakeCall, FakeContext, endpoint
from gateway_fakes.recorder import RequestLog

DEFAULT_ANTHROPIC_KEY: Final = "sk-ant-upstream-test"
_VERSION = re.compile(r"\d{4}-\d{2}-\d{2}")
MODELS: Final = ("claude-opus-4-6", "claude-haiku-4-5", "claude-opus-4-1")


def _admit(request: Request, api_key: str) -> Response | None:
    presented = request.headers.get("x-api-key")
    if presented is None:
        presented = request.headers.get("authorization", "").removeprefix("Bearer ")
    if not secrets.compare_digest(presented.encode(), api_key.encode()):
        return anthropic_error(401, "invalid x-api-key")
    version = request.headers.get("anthropic-version")
    if version is None:
        return invalid("anthropic-version: header is required")
    if not _VERSION.fullmatch(version):
        return invalid(f"anthropic-version: invalid version {version!r}")
    return None


ANTHROPIC_DIALECT: Final = Dialect(admit=_admit, fault_error=fault_error, bad_json=bad_json)


async def _list_models(call: FakeCall) -> Response:
    data = [
        {"type": "model", "id": model, "display_name": model, "created_at": "2025-09-29T00:00:00Z"}
        for model in MODELS
    ]
    body = {"data": data, "has_more": False, "first_id": MODELS[0], "last_id": MODELS[-1]}
    return Response(orjson.dumps(body), media_type="application/json")


def create_anthropic_fake(api_key: str = DEFAULT_ANTHROPIC_KEY) -> Starlette:
    """Build a fake Anthropic upstream accepting only `x-api-key: <api_key>`.

    `POST /v1/messages` and `GET /v1/models` are recorded and served; the request log is
    at `/_fake/requests`, as on every fake.
    """
    context = FakeContext(api_key, RequestLog(), ANTHROPIC_DIALECT)
    routes = [
        Route("/v1/messages", endpoint(context, messages, BodyKind.JSON), methods=["POST"]),
        Route("/v1/models", endpoint(context, _list_models, BodyKind.NONE), methods=["GET"]),
        Route("/_fake/requests", request_log_endpoint(context.log), methods=["GET", "DELETE"]),
    ]
    app = Starlette(routes=routes, exception_handlers={HTTPException: _http_error})
    app.state.request_log = context.log
    return app


async def _http_error(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, HTTPException):
        raise exc
    return anthropic_error(exc.status_code, f"{request.method} {request.url.path}: {exc.detail}")
