"""Anthropic error responses -> `ProviderError`.

Anthropic answers `{"type": "error", "error": {"type": "...", "message": "..."}}`. The
status then follows the shared table in `gateway_providers.errors`, with one addition:
529 `overloaded_error` becomes a retryable 503. Anthropic's error types are renamed to
OpenAI's, and the original type is kept as the `code` so clients can still tell them apart.

| Anthropic type         | status | OpenAI type             |
|------------------------|--------|-------------------------|
| invalid_request_error  | 400    | invalid_request_error   |
| authentication_error   | 401    | (hidden: gateway credential) |
| permission_error       | 403    | (hidden: gateway credential) |
| not_found_error        | 404    | invalid_request_error   |
| request_too_large      | 413    | invalid_request_error   |
| rate_limit_error       | 429    | rate_limit_error        |
| api_error              | 500    | server_error            |
| overloaded_error       | 529    | server_error (503)      |
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import orjson

from gateway_providers.base import ProviderError
from gateway_providers.errors import error_from_response

OVERLOADED_STATUS: Final = 529

ERROR_TYPES: Final[Mapping[str, str]] = {
    "invalid_request_error": "invalid_request_error",
    "authentication_error": "authentication_error",
    "permission_error": "permission_error",
    "not_found_error": "invalid_request_error",
    "request_too_large": "invalid_request_error",
    "rate_limit_error": "rate_limit_error",
    "api_error": "server_error",
    "overloaded_error": "server_error",
    "timeout_error": "timeout_error",
}


def error_from_anthropic(status: int, headers: Mapping[str, str], body: bytes) -> ProviderError:
    """Translate an Anthropic error response (see the table above)."""
    anthropic_type, message = _fields(body)
    openai_body = orjson.dumps(
        {
            "error": {
                "message": message,
                "type": ERROR_TYPES.get(anthropic_type or "", None),
                "code": anthropic_type,
                "param": None,
            }
        }
    )
    client_status = 503 if status == OVERLOADED_STATUS else status
    return error_from_response(client_status, headers, openai_body)


def stream_error_from_anthropic(payload: Mapping[str, object]) -> ProviderError:
    """The error of a mid-stream `event: error` (not retryable: the stream already started)."""
    error = payload.get("error")
    fields = error if isinstance(error, Mapping) else {}
    anthropic_type = fields.get("type") if isinstance(fields.get("type"), str) else None
    message = fields.get("message")
    return ProviderError(
        502,
        message if isinstance(message, str) else "The upstream provider reported an error mid-stream.",
        ERROR_TYPES.get(str(anthropic_type), "server_error"),
        code=str(anthropic_type) if anthropic_type else None,
        retryable=False,
    )


def _fields(body: bytes) -> tuple[str | None, str | None]:
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None, None
    error = parsed.get("error") if isinstance(parsed, dict) else None
    if not isinstance(error, dict):
        return None, None
    kind, message = error.get("type"), error.get("message")
    return (kind if isinstance(kind, str) else None, message if isinstance(message, str) else None)
