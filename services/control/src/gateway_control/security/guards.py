"""Route guards: every API route authenticates the caller, then checks a role.

require_authenticated          any signed-in user (handlers narrow further)
require_role(role)             a platform role (401, then 403)
require_tenant_role(minimum)   a role in the tenant named by the `tenant_id` path parameter:
                               404 for non-members (see rbac.py), 403 for weaker roles;
                               `None` means platform admins only (still 404 to non-members)
require_internal_token         service-to-service routes (shared INTERNAL_TOKEN)
"""

from __future__ import annotations

import hmac
import uuid
from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.types import Guard

from gateway_control.errors import AuthenticationError, PermissionDeniedError
from gateway_control.security.authentication import authenticate, bearer_token
from gateway_control.security.principal import Role, TenantRole
from gateway_control.security.rbac import authorize_tenant, tenant_not_found
from gateway_control.state import control_state


async def require_authenticated(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Admit any authenticated, enabled user (401 otherwise)."""
    await authenticate(connection)


def require_role(role: Role) -> Guard:
    """A guard admitting only authenticated principals holding `role` (401, then 403)."""

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        principal = await authenticate(connection)
        if not principal.has_role(role):
            raise PermissionDeniedError(f"this action needs the {role.value} role")

    return guard


require_platform_admin = require_role(Role.PLATFORM_ADMIN)


def require_tenant_role(minimum: TenantRole | None) -> Guard:
    """A guard requiring `minimum` in the path's tenant (None: platform admin, 404 to outsiders)."""

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        principal = await authenticate(connection)
        raw = connection.path_params.get("tenant_id")
        try:
            tenant_id = raw if isinstance(raw, uuid.UUID) else uuid.UUID(str(raw))
        except ValueError as exc:
            raise tenant_not_found(uuid.UUID(int=0)) from exc
        authorize_tenant(principal, tenant_id, minimum)

    return guard


def require_internal_token(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Admit only callers presenting `Authorization: Bearer <INTERNAL_TOKEN>`."""
    expected = control_state(connection.app.state).settings.internal_token.get_secret_value()
    presented = bearer_token(connection) or ""
    if not hmac.compare_digest(presented.encode(), expected.encode()):
        raise AuthenticationError("a valid internal token is required")
