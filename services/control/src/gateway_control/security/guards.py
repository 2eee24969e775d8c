"""Route guards: every admin route authenticates the bearer token, then checks a role.

`require_role(role)` builds a guard; routers attach it so every route below them is covered.
Issue 6 adds tenant-scoped role guards built the same way on `authenticate`. The internal guard
protects service-to-service routes with the shared INTERNAL_TOKEN instead.
"""

from __future__ import annotations

import hmac
from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.types import Guard

from gateway_control.errors import AuthenticationError, PermissionDeniedError
from gateway_control.security.authentication import authenticate, bearer_token
from gateway_control.security.principal import Role
from gateway_control.state import control_state


def require_role(role: Role) -> Guard:
    """A guard admitting only authenticated principals holding `role` (401, then 403)."""

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        principal = await authenticate(connection)
        if not principal.has_role(role):
            raise PermissionDeniedError(f"this action needs the {role.value} role")

    return guard


def require_internal_token(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Admit only callers presenting `Authorization: Bearer <INTERNAL_TOKEN>`."""
    expected = control_state(connection.app.state).settings.internal_token.get_secret_value()
    presented = bearer_token(connection) or ""
    if not hmac.compare_digest(presented.encode(), expected.encode()):
        raise AuthenticationError("a valid internal token is required")
