"""Every refusal and failure of the proxy, rendered as OpenAI's error JSON.

The tree (status, `type`, typical `code`):

    GatewayError                      base: status + message + type + code + param (+ headers)
    ├── InvalidRequest          400   invalid_request_error  invalid_json, invalid_type,
    │                                 missing_required_parameter (param names the field)
    ├── AuthenticationFailed    401   invalid_request_error  invalid_api_key (missing, malformed,
    │                                 unknown, revoked, disabled or expired key)
    ├── PermissionDenied        403   permission_error       tenant_suspended, endpoint_not_allowed,
    │                                 model_not_priced
    ├── NotFound                404   invalid_request_error  model_not_found, unknown_url
    ├── MethodNotAllowed        405   invalid_request_error  method_not_allowed
    ├── PayloadTooLarge         413   invalid_request_error  request_too_large
    ├── HeadersTooLarge         431   invalid_request_error  request_header_fields_too_large
    ├── RateLimited             429   rate_limit_error       rate_limit_exceeded (issue 4's guards)
    ├── QuotaExceeded           429   insufficient_quota     insufficient_quota (a hard budget)
    ├── UpstreamFailed     502/4xx/5xx from the provider's error via the adapter's parse_error,
    │                                 or upstream_unreachable (502)
    ├── UpstreamTimeout         504   timeout_error          upstream_timeout
    └── ServiceUnavailable      503   service_unavailable    no_config, key_store_unavailable,
                                      no_deployment, budget_unavailable

A model that exists but is not visible to the key is reported as 404 `model_not_found`, exactly
like OpenAI does, so a key cannot probe which models other tenants have.

A stream that already sent its 200 cannot change status: its failures become one SSE event
`data: {"error": {...}}` (see `sse_error_event`), which the OpenAI SDKs raise as APIError.
"""

from __future__ import annotations

from collections.abc import Mapping

import orjson
from gateway_providers import ProviderError
from starlette.responses import Response


class GatewayError(Exception):
    """A request the proxy refuses or could not serve; `response()` renders it for the client."""

    status = 500
    type = "server_error"
    code: str | None = "internal_error"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        param: str | None = None,
        status: int | None = None,
        type: str | None = None,  # named like the OpenAI field
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        if type is not None:
            self.type = type
        self.param = param
        self.headers = dict(headers or {})

    def to_dict(self) -> dict[str, object]:
        """The `{"error": {...}}` object OpenAI returns."""
        return {"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code}}

    def response(self) -> Response:
        """An HTTP response carrying the error JSON, its status and any extra headers."""
        return Response(
            orjson.dumps(self.to_dict()),
            status_code=self.status,
            headers=self.headers,
            media_type="application/json",
        )


class InvalidRequest(GatewayError):
    """The body is not valid JSON, not an object, or a field has the wrong type (param names it)."""

    status = 400
    type = "invalid_request_error"
    code = None


class AuthenticationFailed(GatewayError):
    """No key, a malformed key, or a key that is unknown, revoked, disabled or expired."""

    status = 401
    type = "invalid_request_error"
    code = "invalid_api_key"

    def __init__(self, message: str) -> None:
        super().__init__(message, headers={"www-authenticate": "Bearer"})


class PermissionDenied(GatewayError):
    """The key is valid but may not do this (suspended tenant, endpoint not allowed)."""

    status = 403
    type = "permission_error"
    code = "permission_denied"


class NotFound(GatewayError):
    """The model (or the URL) does not exist for this key."""

    status = 404
    type = "invalid_request_error"
    code = "not_found"


class MethodNotAllowed(GatewayError):
    """The URL exists but not with this method."""

    status = 405
    type = "invalid_request_error"
    code = "method_not_allowed"


class PayloadTooLarge(GatewayError):
    """The request body is larger than MAX_BODY_BYTES."""

    status = 413
    type = "invalid_request_error"
    code = "request_too_large"


class HeadersTooLarge(GatewayError):
    """More request headers, or more header bytes, than MAX_HEADERS / MAX_HEADER_BYTES."""

    status = 431
    type = "invalid_request_error"
    code = "request_header_fields_too_large"


class RateLimited(GatewayError):
    """A rate limit refused the request (carries Retry-After in `headers`)."""

    status = 429
    type = "rate_limit_error"
    code = "rate_limit_exceeded"


class QuotaExceeded(GatewayError):
    """A hard budget cannot hold this request's estimated cost (OpenAI's "insufficient_quota")."""

    status = 429
    type = "insufficient_quota"
    code = "insufficient_quota"


class UpstreamFailed(GatewayError):
    """The provider answered with an error, or could not be reached."""

    status = 502
    type = "upstream_error"
    code = "upstream_error"

    @classmethod
    def from_provider(cls, error: ProviderError) -> UpstreamFailed:
        """Wrap an adapter's translated upstream error, keeping its status and fields."""
        headers = {}
        if error.retry_after_s is not None:
            headers["retry-after"] = str(max(1, round(error.retry_after_s)))
        return cls(
            error.message,
            status=error.status,
            type=error.type,
            code=error.code,
            param=error.param,
            headers=headers,
        )


class UpstreamTimeout(GatewayError):
    """The provider did not answer within the upstream timeout."""

    status = 504
    type = "timeout_error"
    code = "upstream_timeout"


class ServiceUnavailable(GatewayError):
    """The proxy cannot serve right now: no config snapshot yet, key store down, no deployment."""

    status = 503
    type = "service_unavailable"
    code = "service_unavailable"


def model_not_found(model: str) -> NotFound:
    """OpenAI's wording for a model that does not exist or that the key may not use."""
    return NotFound(
        f"The model `{model}` does not exist or you do not have access to it.",
        code="model_not_found",
        param="model",
    )


def sse_error_event(message: str, *, type: str, code: str | None) -> bytes:
    """One SSE event carrying OpenAI's error object, to end a stream that already sent its 200."""
    payload = {"error": {"message": message, "type": type, "param": None, "code": code}}
    return b"data: " + orjson.dumps(payload) + b"\n\n"
