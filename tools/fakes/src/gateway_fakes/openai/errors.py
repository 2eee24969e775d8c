"""OpenAI's error responses: `{"error": {"message", "type", "param", "code"}}`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

import orjson
from starlette.responses import Response


@dataclass(frozen=True, slots=True)
class ErrorShape:
    """The body OpenAI sends for one status."""

    message: str
    type: str
    code: str | None


ERROR_SHAPES: Final[Mapping[int, ErrorShape]] = {
    400: ErrorShape("Invalid request.", "invalid_request_error", None),
    401: ErrorShape("Incorrect API key provided.", "invalid_request_error", "invalid_api_key"),
    403: ErrorShape(
        "Country, region, or territory not supported",
        "request_forbidden",
        "unsupported_country_region_territory",
    ),
    404: ErrorShape(
        "The model does not exist or you do not have access to it.",
        "invalid_request_error",
        "model_not_found",
    ),
    408: ErrorShape("Request timed out.", "server_error", None),
    409: ErrorShape("The request conflicted with another request.", "invalid_request_error", None),
    413: ErrorShape("Request too large.", "invalid_request_error", None),
    422: ErrorShape("Unprocessable request.", "invalid_request_error", None),
    429: ErrorShape(
        "Rate limit reached for requests. Please try again in 1s.", "requests", "rate_limit_exceeded"
    ),
    500: ErrorShape(
        "The server had an error while processing your request. Sorry about that!", "server_error", None
    ),
    502: ErrorShape("Bad gateway.", "server_error", None),
    503: ErrorShape("The engine is currently overloaded, please try again later.", "server_error", None),
    504: ErrorShape("Gateway timeout.", "server_error", None),
}


def shape_for_status(status: int) -> ErrorShape:
    """The canned error body for `status`, falling back by status class."""
    shape = ERROR_SHAPES.get(status)
    if shape is not None:
        return shape
    if status < 500:
        return ErrorShape(f"Request failed with status {status}.", "invalid_request_error", None)
    return ErrorShape(f"Upstream failure with status {status}.", "server_error", None)


def error_response(
    status: int,
    message: str,
    type_: str,
    code: str | None = None,
    param: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """Render an OpenAI error JSON response."""
    body = {"error": {"message": message, "type": type_, "param": param, "code": code}}
    return Response(orjson.dumps(body), status, headers=headers, media_type="application/json")


def invalid_request(message: str, param: str | None = None, code: str | None = None) -> Response:
    """A 400 `invalid_request_error`, as OpenAI sends for a malformed body."""
    return error_response(400, message, "invalid_request_error", code, param)


def masked_key(key: str) -> str:
    """Mask a key the way OpenAI's 401 message does (`sk-a***************wxyz`)."""
    if len(key) <= 8:
        return "*" * len(key)
    return f"{key[:4]}{'*' * (len(key) - 8)}{key[-4:]}"
