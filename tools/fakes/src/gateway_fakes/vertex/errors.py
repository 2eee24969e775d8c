"""Google's error JSON: `{"error": {"code", "message", "status"}}`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import orjson
from starlette.responses import Response

STATUS_NAMES: Final[Mapping[int, str]] = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ABORTED",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
UNAUTHENTICATED: Final = (
    "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or "
    "other valid authentication credential."
)


def error_payload(status: int, message: str) -> dict[str, object]:
    """The `error` object for `status`."""
    name = STATUS_NAMES.get(status, "INTERNAL" if status >= 500 else "FAILED_PRECONDITION")
    return {"error": {"code": status, "message": message, "status": name}}


def google_error(status: int, message: str, headers: Mapping[str, str] | None = None) -> Response:
    """Render Google's error response."""
    body = orjson.dumps(error_payload(status, message))
    return Response(body, status, headers=dict(headers or {}), media_type="application/json")


def invalid(message: str) -> Response:
    """A 400 INVALID_ARGUMENT."""
    return google_error(400, message)


def fault_error(status: int, retry_after: str) -> Response:
    """The answer to `x-fake-status` (a 429 carries `retry-after`)."""
    headers = {"retry-after": retry_after} if status == 429 else None
    return google_error(status, f"fake upstream fault (HTTP {status})", headers)


def bad_json() -> Response:
    """The answer to a body that is not a JSON object."""
    return invalid("Invalid JSON payload received.")
