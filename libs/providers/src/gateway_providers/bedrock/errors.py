"""Bedrock error responses -> `ProviderError`.

Bedrock names the error in the `x-amzn-ErrorType` header (`ThrottlingException:http://...`)
or the body's `__type`, with `{"message": "..."}` as the body. The exception decides the
status fed to the shared table in `gateway_providers.errors` (the HTTP status is the
fallback); the exception name is kept as the `code`.

| exception                                   | treated as | client | retryable |
|---------------------------------------------|------------|--------|-----------|
| ValidationException, SerializationException | 400        | 400    | no        |
| AccessDeniedException, UnrecognizedClient-, | 403        | 502 (message hidden) | yes |
| InvalidSignature-, ExpiredToken-, MissingAuthenticationToken- |  |  |     |
| ResourceNotFoundException                   | 404        | 404    | no        |
| ModelTimeoutException                       | 408        | 504    | yes       |
| ThrottlingException, ServiceQuotaExceeded-, | 429        | 429    | yes       |
| ModelNotReadyException                      |            |        |           |
| InternalServerException, ModelErrorException, | 500      | 502    | yes       |
| ModelStreamErrorException                   |            |        |           |
| ServiceUnavailableException                 | 503        | 503    | yes       |

In a ConverseStream, an exception arrives as an event-stream message whose
`:exception-type` is the same name in lowerCamelCase (`throttlingException`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import orjson

from gateway_providers.base import ProviderError
from gateway_providers.errors import error_from_response

EXCEPTION_STATUS: Final[Mapping[str, int]] = {
    "ValidationException": 400,
    "SerializationException": 400,
    "AccessDeniedException": 403,
    "UnrecognizedClientException": 403,
    "InvalidSignatureException": 403,
    "ExpiredTokenException": 403,
    "MissingAuthenticationTokenException": 403,
    "ResourceNotFoundException": 404,
    "ModelTimeoutException": 408,
    "ThrottlingException": 429,
    "ServiceQuotaExceededException": 429,
    "ModelNotReadyException": 429,
    "InternalServerException": 500,
    "ModelErrorException": 500,
    "ModelStreamErrorException": 500,
    "ServiceUnavailableException": 503,
}


def exception_name(raw: str | None) -> str | None:
    """`ThrottlingException` from `ThrottlingException:http://...`, `throttlingException` or a `#` prefix."""
    if not raw:
        return None
    name = raw.split(":", 1)[0].rsplit("#", 1)[-1].strip()
    return name[:1].upper() + name[1:] if name else None


def error_from_bedrock(status: int, headers: Mapping[str, str], body: bytes) -> ProviderError:
    """Translate a Bedrock error response (see the table above)."""
    lowered = {key.lower(): value for key, value in headers.items()}
    message, body_type = _fields(body)
    name = exception_name(lowered.get("x-amzn-errortype")) or exception_name(body_type)
    openai_body = orjson.dumps({"error": {"message": message, "type": None, "code": name, "param": None}})
    return error_from_response(EXCEPTION_STATUS.get(name or "", status), lowered, openai_body)


def stream_error_from_bedrock(exception_type: str | None, payload: bytes) -> ProviderError:
    """The error of a mid-stream exception message (not retryable: the stream already started)."""
    message, _ = _fields(payload)
    name = exception_name(exception_type)
    status = EXCEPTION_STATUS.get(name or "", 500)
    error_type = "rate_limit_error" if status == 429 else "server_error"
    return ProviderError(
        502,
        message or "The upstream provider reported an error mid-stream.",
        error_type,
        code=name,
        retryable=False,
    )


def _fields(body: bytes) -> tuple[str | None, str | None]:
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None, None
    if not isinstance(parsed, dict):
        return None, None
    message = parsed.get("message", parsed.get("Message"))
    kind = parsed.get("__type")
    return (message if isinstance(message, str) else None, kind if isinstance(kind, str) else None)
