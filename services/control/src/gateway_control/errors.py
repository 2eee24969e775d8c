"""Errors of the control API and the one place they become HTTP responses.

    ControlError                    every error the services raise on purpose
    ├── NotFoundError               404 not_found: the resource does not exist (or is not yours)
    ├── ConflictError               409 conflict: a unique name or state forbids the change
    ├── InvalidInputError           422 invalid_input: well-formed, but refers to nothing / breaks a rule
    ├── AuthenticationError         401 unauthorized: no valid bearer token or credentials
    ├── PermissionDeniedError       403 forbidden: authenticated but not allowed
    ├── RateLimitedError            429 rate_limited: too many attempts (Retry-After set)
    └── DependencyUnavailableError  503 <name>_unavailable: Postgres, accounting, ... unreachable

Errors raised by the repositories' driver (psycopg) are mapped here too, by SQLSTATE class:
unique violation -> 409, foreign key / check / bad value -> 422, connection trouble -> 503.
Litestar's own exceptions (validation 400, unknown route 404, 405) get the same JSON shape:

    {"error": {"code": "not_found", "message": "...", "details": null, "request_id": "..."}}
"""

from __future__ import annotations

import logging
from typing import Any

import psycopg
import psycopg.errors
from gateway_common.logging import request_id_var
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException
from litestar.types import ExceptionHandlersMap
from psycopg_pool import PoolTimeout

from gateway_control.middleware import REQUEST_ID_HEADER, accepted_request_id

log = logging.getLogger(__name__)


class ControlError(Exception):
    """Base of the errors the control services raise on purpose."""

    status_code = 500
    code = "internal_error"

    def __init__(self, message: str, *, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class NotFoundError(ControlError):
    """The resource does not exist."""

    status_code = 404
    code = "not_found"


class ConflictError(ControlError):
    """The change conflicts with existing state (duplicate name, already revoked, ...)."""

    status_code = 409
    code = "conflict"


class InvalidInputError(ControlError):
    """The request is well-formed but cannot be applied (unknown reference, broken rule)."""

    status_code = 422
    code = "invalid_input"


class AuthenticationError(ControlError):
    """No valid credentials."""

    status_code = 401
    code = "unauthorized"


class PermissionDeniedError(ControlError):
    """Valid credentials without the right to do this."""

    status_code = 403
    code = "forbidden"


class RateLimitedError(ControlError):
    """Too many attempts; retry after `retry_after_s` seconds."""

    status_code = 429
    code = "rate_limited"

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message, details={"retry_after_s": retry_after_s})
        self.retry_after_s = retry_after_s


class DependencyUnavailableError(ControlError):
    """A dependency (Postgres, Redis, accounting) cannot be reached right now."""

    status_code = 503

    def __init__(self, dependency: str, message: str) -> None:
        super().__init__(message)
        self.code = f"{dependency}_unavailable"


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
    429: "rate_limited",
    503: "service_unavailable",
}

# Driver exception class (one per SQLSTATE or class of them) -> (status, code, message), so the mapping is
# explicit; anything not listed is a bug and surfaces as a 500 with a log line.
_DB_ERRORS: dict[type[psycopg.Error], tuple[int, str, str]] = {
    psycopg.errors.UniqueViolation: (409, "conflict", "a resource with the same unique value exists"),
    psycopg.errors.ForeignKeyViolation: (422, "invalid_input", "the request refers to a missing resource"),
    psycopg.errors.RestrictViolation: (409, "conflict", "the resource is still referenced"),
    psycopg.errors.CheckViolation: (422, "invalid_input", "a value breaks a constraint"),
    psycopg.errors.NotNullViolation: (422, "invalid_input", "a required value is missing"),
    psycopg.DataError: (422, "invalid_input", "a value is out of range or malformed"),
    psycopg.IntegrityError: (409, "conflict", "the change conflicts with existing data"),
}


def error_response(
    request: Request[Any, Any, Any],
    status_code: int,
    code: str,
    message: str,
    details: Any = None,
    headers: dict[str, str] | None = None,
) -> Response[dict[str, Any]]:
    """The control API's error body, with the request id for support requests.

    Errors raised before the request-id middleware ran (an unknown route) still get an id.
    """
    request_id = request_id_var.get()
    if request_id is None:
        request_id = accepted_request_id(request.scope)
        headers = {**(headers or {}), REQUEST_ID_HEADER: request_id}
    body = {"error": {"code": code, "message": message, "details": details, "request_id": request_id}}
    if status_code == 401:
        headers = {**(headers or {}), "WWW-Authenticate": 'Bearer realm="control"'}
    return Response(content=body, status_code=status_code, media_type=MediaType.JSON, headers=headers)


def _control_error(request: Request[Any, Any, Any], exc: ControlError) -> Response[dict[str, Any]]:
    if exc.status_code >= 500:
        log.error("%s: %s", exc.code, exc.message)
    headers = {"Retry-After": str(exc.retry_after_s)} if isinstance(exc, RateLimitedError) else None
    return error_response(request, exc.status_code, exc.code, exc.message, exc.details, headers)


def _http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[dict[str, Any]]:
    code = _HTTP_CODES.get(exc.status_code, "error")
    details = exc.extra if exc.extra else None
    return error_response(request, exc.status_code, code, str(exc.detail), details, exc.headers)


def _database_error(request: Request[Any, Any, Any], exc: psycopg.Error) -> Response[dict[str, Any]]:
    for cls in type(exc).__mro__:
        mapped = _DB_ERRORS.get(cls)
        if mapped is not None:
            status, code, message = mapped
            diag = exc.diag
            details = {"constraint": diag.constraint_name} if diag.constraint_name else None
            return error_response(request, status, code, message, details)
    if isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError):
        return _pool_timeout(request, exc)
    log.error("unexpected database error", exc_info=exc)
    return error_response(request, 500, "internal_error", "internal error")


def _pool_timeout(request: Request[Any, Any, Any], exc: psycopg.Error) -> Response[dict[str, Any]]:
    log.warning("database unavailable: %s", exc)
    return error_response(request, 503, "database_unavailable", "the database is unreachable; retry shortly")


def _unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    log.error("unhandled error", exc_info=exc)
    return error_response(request, 500, "internal_error", "internal error")


def exception_handlers() -> ExceptionHandlersMap:
    """The exception-to-response mapping installed on the app."""
    return {
        ControlError: _control_error,
        HTTPException: _http_error,
        psycopg.Error: _database_error,
        PoolTimeout: _pool_timeout,
        Exception: _unexpected,
    }
