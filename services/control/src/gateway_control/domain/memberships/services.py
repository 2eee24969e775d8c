"""Membership use cases: list, add, change role, remove.

Tenant admins manage members; granting, changing or removing the owner role takes an owner
(or a platform admin), and a tenant always keeps at least one owner. A personal tenant has only
its owner, so its membership cannot change.
"""

from __future__ import annotations

import uuid
from typing import cast

from gateway_control.database import Connection, Database
from gateway_control.db import memberships as queries
from gateway_control.db import users as user_queries
from gateway_control.domain.audit.services import Actor, record
from gateway_control.domain.memberships.schemas import Member, MemberAdd, MemberList, MemberRole, MemberUpdate
from gateway_control.domain.tenants.repositories import TenantRepository
from gateway_control.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError
from gateway_control.security.principal import Principal, TenantRole


def _member_not_found(user_id: uuid.UUID) -> NotFoundError:
    return NotFoundError(f"user {user_id} is not a member of this tenant")


def _check_owner_rights(principal: Principal, tenant_id: uuid.UUID, *roles: str) -> None:
    if "owner" not in roles or principal.is_platform_admin:
        return
    if principal.tenant_role(tenant_id) is not TenantRole.OWNER:
        raise PermissionDeniedError("only an owner can grant, change or remove the owner role")


async def _keep_an_owner(conn: Connection, tenant_id: uuid.UUID) -> None:
    remaining = await queries.count_tenant_owners(conn, tenant_id=tenant_id)
    if not remaining:
        raise ConflictError("a tenant must keep at least one owner")


async def _shared_tenant(conn: Connection, tenant_id: uuid.UUID) -> None:
    if (await TenantRepository(conn).get(tenant_id)).is_personal:
        raise ConflictError("a personal tenant's membership cannot change")


class MembershipService:
    """Tenant membership operations; each mutation is audited."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def list(self, tenant_id: uuid.UUID) -> MemberList:
        """Every member of a tenant, by email."""
        async with self._db.connection() as conn:
            await TenantRepository(conn).get(tenant_id)
            rows = await queries.list_memberships_for_tenant(conn, tenant_id=tenant_id)
        return MemberList(
            items=[
                Member(
                    user_id=r.user_id,
                    email=r.email,
                    display_name=r.display_name,
                    disabled=r.disabled,
                    role=cast(MemberRole, r.role),
                    created_at=r.created_at,
                )
                for r in rows
            ]
        )

    async def add(self, actor: Actor, principal: Principal, tenant_id: uuid.UUID, data: MemberAdd) -> Member:
        """Give an existing user a role in the tenant; 422 for an unknown email, 409 if a member."""
        _check_owner_rights(principal, tenant_id, data.role)
        async with self._db.transaction() as conn:
            await _shared_tenant(conn, tenant_id)
            user = await user_queries.get_user_by_email(conn, email=data.email)
            if user is None:
                raise InvalidInputError(f"no user has the email {data.email!r}", details={"param": "email"})
            row = await queries.create_membership(conn, user_id=user.id, tenant_id=tenant_id, role=data.role)
            if row is None:
                raise RuntimeError("INSERT ... RETURNING returned no row")
            member = Member(
                user_id=user.id,
                email=user.email,
                display_name=user.display_name,
                disabled=user.disabled,
                role=data.role,
                created_at=row.created_at,
            )
            await record(conn, actor, "membership.create", "tenant", tenant_id, after=member)
        return member

    async def update(
        self, actor: Actor, principal: Principal, tenant_id: uuid.UUID, user_id: uuid.UUID, data: MemberUpdate
    ) -> Member:
        """Change a member's role."""
        async with self._db.transaction() as conn:
            await _shared_tenant(conn, tenant_id)
            current = await queries.get_membership(conn, user_id=user_id, tenant_id=tenant_id)
            if current is None:
                raise _member_not_found(user_id)
            _check_owner_rights(principal, tenant_id, current.role, data.role)
            await queries.update_membership_role(conn, user_id=user_id, tenant_id=tenant_id, role=data.role)
            await _keep_an_owner(conn, tenant_id)
            user = await user_queries.get_user(conn, id=user_id)
            if user is None:
                raise _member_not_found(user_id)
            member = Member(
                user_id=user_id,
                email=user.email,
                display_name=user.display_name,
                disabled=user.disabled,
                role=data.role,
                created_at=current.created_at,
            )
            await record(
                conn,
                actor,
                "membership.update",
                "tenant",
                tenant_id,
                before={"user_id": str(user_id), "role": current.role},
                after=member,
            )
        return member

    async def remove(
        self, actor: Actor, principal: Principal, tenant_id: uuid.UUID, user_id: uuid.UUID
    ) -> None:
        """Remove a member from the tenant."""
        async with self._db.transaction() as conn:
            await _shared_tenant(conn, tenant_id)
            current = await queries.get_membership(conn, user_id=user_id, tenant_id=tenant_id)
            if current is None:
                raise _member_not_found(user_id)
            _check_owner_rights(principal, tenant_id, current.role)
            await queries.delete_membership(conn, user_id=user_id, tenant_id=tenant_id)
            await _keep_an_owner(conn, tenant_id)
            await record(
                conn,
                actor,
                "membership.delete",
                "tenant",
                tenant_id,
                before={"user_id": str(user_id), "role": current.role},
            )
