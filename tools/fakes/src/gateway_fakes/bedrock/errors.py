"""Bedrock's error responses: `{"message": ...}` with the exception in `x-amzn-ErrorType`.

Every response carries an `x-amzn-RequestId`, as the real service's do.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Final

import orjson
from starlette.responses import Response

# x-fake-status -> (exception, message), from the Converse API reference's error list.
FAULT_EXCEPTIONS: Final[Mapping[int, tuple[str, str]]] = {
    400: ("ValidationException", "Input validation failed. Check your request parameters and retry."),
    401: ("UnrecognizedClientException", "The security token included in the request is invalid."),
    403: ("AccessDeniedException", "You don't have access to the model with the specified model ID."),
    404: ("ResourceNotFoundException", "The specified resource could not be found."),
    408: ("ModelTimeoutException", "The request took too long to process."),
    424: ("ModelErrorException", "The model failed to process the request."),
    429: ("ThrottlingException", "Too many requests, please wait before trying again."),
    500: ("InternalServerException", "An internal server error occurred. Retry your request."),
    503: ("ServiceUnavailableException", "The service isn't currently available. Try again later."),
}


def request_id() -> str:
    """A request id shaped like AWS's (a UUID)."""
    return str(uuid.uuid4())


def bedrock_error(
    status: int, exception: str, message: str, headers: Mapping[str, str] | None = None
) -> Response:
    """Render `{"message": ...}` with `x-amzn-ErrorType: <exception>:http://internal.amazon.com/...`."""
    all_headers = {
        "x-amzn-ErrorType": f"{exception}:http://internal.amazon.com/coral/com.amazon.bedrock/",
        "x-amzn-RequestId": request_id(),
        **(headers or {}),
    }
    return Response(
        orjson.dumps({"message": message}), status, headers=all_headers, media_type="application/json"
    )


def validation(message: str) -> Response:
    """A 400 `ValidationException`."""
    return bedrock_error(400, "ValidationException", message)


def fault_error(status: int, retry_after: str) -> Response:
    """The answer to `x-fake-status`; a 429 also carries `retry-after`."""
    default = ("InternalServerException", "HTTP error") if status >= 500 else ("ValidationException", "")
    exception, message = FAULT_EXCEPTIONS.get(status, default)
    headers = {"retry-after": retry_after} if status == 429 else None
    return bedrock_error(status, exception, message or f"HTTP {status}", headers)


def bad_json() -> Response:
    """The answer to a body that is not a JSON object."""
    return bedrock_error(400, "SerializationException", "Unable to parse the request body as JSON.")
