"""Tenant-scoped authorisation: who may see and change what inside a tenant.

A tenant the caller is not a member of does not exist for them: every check answers 404
(exactly the error an unknown id gets), never 403, so ids of other tenants cannot even be
probed. A member whose role is too weak gets 403: they can see the tenant anyway.
"""

from __future__ import annotations

import uuid

from gateway_control.errors import NotFoundError, PermissionDeniedError
from gateway_control.security.principal import Principal, TenantRole


def tenant_not_found(tenant_id: uuid.UUID) -> NotFoundError:
    """The error for an unknown tenant, and for a tenant the caller may not see."""
    return NotFoundError(f"tenant {tenant_id} does not exist")


def authorize_tenant(
    principal: Principal,
    tenant_id: uuid.UUID,
    minimum: TenantRole | None,
    *,
    hidden: NotFoundError | None = None,
) -> None:
    """Require `minimum` in the tenant (None: platform admins only).

    Non-members get `hidden` (default: tenant not found); members below `minimum` get 403.
    """
    if principal.is_platform_admin:
        return
    role = principal.tenant_role(tenant_id)
    if role is None:
        raise hidden or tenant_not_found(tenant_id)
    if minimum is None:
        raise PermissionDeniedError("this action needs the platform_admin role")
    if not role.at_least(minimum):
        raise PermissionDeniedError(f"this action needs the {minimum.value} role in the tenant")
