"""User rows in Postgres, through the sqlc-generated queries."""

from __future__ import annotations

import uuid

from gateway_control.database import Connection
from gateway_control.db import users as queries
from gateway_control.db.tables import User


class UserRepository:
    """User queries on one connection."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def get(self, user_id: uuid.UUID) -> User | None:
        """The user with this id, if any."""
        return await queries.get_user(self._conn, id=user_id)

    async def find_by_email(self, email: str) -> User | None:
        """The user with this email (case-insensitive), if any."""
        return await queries.get_user_by_email(self._conn, email=email)

    async def create_platform_admin(self, email: str, password_hash: str) -> User:
        """Insert a local platform admin."""
        row = await queries.create_user(
            self._conn,
            email=email,
            display_name="Platform admin",
            password_hash=password_hash,
            is_platform_admin=True,
            oidc_issuer=None,
            oidc_subject=None,
        )
        if row is None:
            raise RuntimeError("INSERT ... RETURNING returned no row")
        return row

    async def grant_platform_admin(self, user_id: uuid.UUID) -> None:
        """Make an existing user a platform admin."""
        await queries.set_user_platform_admin(self._conn, id=user_id, is_platform_admin=True)

    async def set_password_hash(self, user_id: uuid.UUID, password_hash: str) -> None:
        """Replace a user's password hash (after a parameter upgrade)."""
        await queries.update_user_password_hash(self._conn, id=user_id, password_hash=password_hash)
