"""Anthropic's error responses: `{"type": "error", "error": {"type", "message"}}`.

Statuses and types follow the public API reference's error table; 529 is `overloaded_error`.
Every response carries a `request-id` header, as the real API's do.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Final

import orjson
from starlette.responses import Response

ERROR_TYPES: Final[Mapping[int, tuple[str, str]]] = {
    400: ("invalid_request_error", "There was an issue with the format or content of your request."),
    401: ("authentication_error", "invalid x-api-key"),
    403: ("permission_error", "Your API key does not have permission to use the specified resource."),
    404: ("not_found_error", "The requested resource could not be found."),
    413: ("request_too_large", "Request exceeds the maximum allowed number of bytes."),
    429: ("rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit."),
    500: ("api_error", "An unexpected error has occurred internal to Anthropic's systems."),
    529: ("overloaded_error", "Overloaded"),
}


def request_id() -> str:
    """An id shaped like Anthropic's `req_...`."""
    return f"req_{secrets.token_hex(12)}"


def anthropic_error(
    status: int, message: str | None = None, headers: Mapping[str, str] | None = None
) -> Response:
    """Render the error body for `status` (the message defaults to the reference's wording)."""
    kind, default = ERROR_TYPES.get(status, ("api_error" if status >= 500 else "invalid_request_error", ""))
    body = {
        "type": "error",
        "error": {"type": kind, "message": message or default or f"HTTP {status}"},
        "request_id": request_id(),
    }
    all_headers = {"request-id": request_id(), **(headers or {})}
    return Response(orjson.dumps(body), status, headers=all_headers, media_type="application/json")


def invalid(message: str) -> Response:
    """A 400 `invalid_request_error` with `message`."""
    return anthropic_error(400, message)


def fault_error(status: int, retry_after: str) -> Response:
    """The answer to `x-fake-status`; a 429 carries `retry-after` and the rate-limit headers."""
    headers: dict[str, str] = {}
    if status == 429:
        headers = {
            "retry-after": retry_after,
            "anthropic-ratelimit-requests-limit": "50",
            "anthropic-ratelimit-requests-remaining": "0",
        }
    return anthropic_error(status, headers=headers)


def bad_json() -> Response:
    """The answer to a body that is not a JSON object."""
    return invalid("There was an issue with the format or content of your request: invalid JSON")
