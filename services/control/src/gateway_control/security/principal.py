"""Who is calling: the authenticated principal and the roles it holds.

Roles are a set so that issue 6's tenant roles (owner, admin, member, viewer per tenant) plug
in beside the platform role without changing how guards ask.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass


class Role(enum.StrEnum):
    """Platform-wide roles; tenant-scoped roles arrive with RBAC."""

    PLATFORM_ADMIN = "platform_admin"


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated user, loaded fresh from the database on every request."""

    user_id: uuid.UUID
    email: str
    roles: frozenset[Role]
    token_id: str

    def has_role(self, role: Role) -> bool:
        """True when the principal holds `role`."""
        return role in self.roles
