"""Who is calling: the authenticated principal, its platform role and its tenant roles.

Tenant roles are ranked: owner > admin > member > viewer; a check for "at least admin" admits
owners too. A platform admin acts with every right in every tenant.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field


class Role(enum.StrEnum):
    """Platform-wide roles."""

    PLATFORM_ADMIN = "platform_admin"


class TenantRole(enum.StrEnum):
    """Roles a user holds in one tenant, from most to least powerful."""

    OWNER = "owner"
    ADMIN = "admin"
    MEMBER = "member"
    VIEWER = "viewer"

    @property
    def rank(self) -> int:
        """Higher is more powerful."""
        return _RANK[self]

    def at_least(self, other: TenantRole) -> bool:
        """True when this role includes every right of `other`."""
        return self.rank >= other.rank


_RANK = {TenantRole.VIEWER: 1, TenantRole.MEMBER: 2, TenantRole.ADMIN: 3, TenantRole.OWNER: 4}


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated user, loaded fresh from the database on every request."""

    user_id: uuid.UUID
    email: str
    roles: frozenset[Role]
    token_id: str
    tenant_roles: Mapping[uuid.UUID, TenantRole] = field(default_factory=dict)

    def has_role(self, role: Role) -> bool:
        """True when the principal holds the platform role `role`."""
        return role in self.roles

    @property
    def is_platform_admin(self) -> bool:
        """True for platform admins, who may act in every tenant."""
        return Role.PLATFORM_ADMIN in self.roles

    def tenant_role(self, tenant_id: uuid.UUID) -> TenantRole | None:
        """The role held in a tenant (None when not a member)."""
        return self.tenant_roles.get(tenant_id)
