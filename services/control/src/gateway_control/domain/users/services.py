"""User use cases for platform admins: create (with a personal tenant), list, read, change.

Disabling a user or changing their password revokes their refresh tokens; their access tokens
stop working at once anyway, because every request re-reads the user.
"""

from __future__ import annotations

import uuid

import msgspec

from gateway_control.database import Database
from gateway_control.db import refresh_tokens as refresh_queries
from gateway_control.db import users as queries
from gateway_control.db.tables import User as UserRow
from gateway_control.domain.audit.services import Actor, record
from gateway_control.domain.tenants.personal import ensure_personal_tenant
from gateway_control.domain.users.schemas import User, UserCreate, UserPage, UserUpdate
from gateway_control.errors import ConflictError, NotFoundError
from gateway_control.security.passwords import PasswordHashing


def to_user(row: UserRow) -> User:
    """The API view of a user row (never the password hash)."""
    return User(
        id=row.id,
        email=row.email,
        display_name=row.display_name,
        platform_admin=row.is_platform_admin,
        disabled=row.disabled,
        has_password=row.password_hash is not None,
        sso=row.oidc_subject is not None,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def user_not_found(user_id: uuid.UUID) -> NotFoundError:
    """The error for an unknown user."""
    return NotFoundError(f"user {user_id} does not exist")


class UserService:
    """Account administration; every mutation is audited."""

    def __init__(self, db: Database, passwords: PasswordHashing) -> None:
        self._db = db
        self._passwords = passwords

    async def create(self, actor: Actor, data: UserCreate) -> User:
        """Create an account and its personal tenant; 409 when the email is taken."""
        password_hash = None if data.password is None else await self._passwords.hash_async(data.password)
        async with self._db.transaction() as conn:
            row = await queries.create_user(
                conn,
                email=data.email,
                display_name=data.display_name,
                password_hash=password_hash,
                is_platform_admin=data.platform_admin,
                oidc_issuer=None,
                oidc_subject=None,
            )
            if row is None:
                raise RuntimeError("INSERT ... RETURNING returned no row")
            await ensure_personal_tenant(conn, row)
            user = to_user(row)
            await record(conn, actor, "user.create", "user", user.id, after=user)
        return user

    async def page(self, limit: int, offset: int) -> UserPage:
        """One page of users ordered by email."""
        async with self._db.connection() as conn:
            rows = await queries.list_users(conn, limit=limit, offset=offset)
            total = await queries.count_users(conn)
        return UserPage(items=[to_user(r) for r in rows], limit=limit, offset=offset, total=total or 0)

    async def get(self, user_id: uuid.UUID) -> User:
        """One user."""
        async with self._db.connection() as conn:
            row = await queries.get_user(conn, id=user_id)
        if row is None:
            raise user_not_found(user_id)
        return to_user(row)

    async def update(self, actor: Actor, user_id: uuid.UUID, data: UserUpdate) -> User:
        """Change an account; an admin cannot disable or demote themselves (no lock-out by mistake)."""
        if actor.user_id == user_id and (data.disabled or data.platform_admin is False):
            raise ConflictError("you cannot disable yourself or withdraw your own platform admin role")
        new_hash = None if data.password is None else await self._passwords.hash_async(data.password)
        async with self._db.transaction() as conn:
            row = await queries.get_user(conn, id=user_id)
            if row is None:
                raise user_not_found(user_id)
            updated = await queries.update_user(
                conn,
                id=user_id,
                display_name=row.display_name if data.display_name is None else data.display_name,
                disabled=row.disabled if data.disabled is None else data.disabled,
                is_platform_admin=row.is_platform_admin
                if data.platform_admin is None
                else data.platform_admin,
            )
            if updated is None:
                raise user_not_found(user_id)
            if new_hash is not None:
                await queries.update_user_password_hash(conn, id=user_id, password_hash=new_hash)
            if new_hash is not None or (data.disabled and not row.disabled):
                await refresh_queries.revoke_user_refresh_tokens(conn, user_id=user_id)
            before, after = to_user(row), to_user(updated)
            if new_hash is not None:
                after = msgspec.structs.replace(after, has_password=True)
            await record(conn, actor, "user.update", "user", user_id, before=before, after=after)
        return after
