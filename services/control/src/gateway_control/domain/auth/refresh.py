"""Rotating refresh tokens: issue at login, rotate on refresh, revoke at logout.

A login starts a family. Each refresh consumes the presented token and issues its successor in
the same family. A consumed token presented again means two parties hold it (a stolen token
raced its owner), and the server cannot tell which one is legitimate: the whole family is
revoked, so both must sign in again. Tokens are 256-bit random strings stored only as SHA-256
digests (a leak of the table yields nothing usable).
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from gateway_control.database import Connection, Database
from gateway_control.db import refresh_tokens as queries
from gateway_control.db import users as user_queries
from gateway_control.domain.audit.services import Actor, record
from gateway_control.errors import AuthenticationError

_INVALID = "the refresh token is invalid, expired or revoked; sign in again"


def refresh_digest(token: str) -> str:
    """The stored form of a refresh token (hex SHA-256)."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Rotated:
    """The outcome of a successful refresh: whose session, and its new refresh token."""

    user_id: uuid.UUID
    refresh_token: str


async def issue_refresh_token(
    conn: Connection, user_id: uuid.UUID, ttl_s: int, family_id: uuid.UUID | None = None
) -> str:
    """Store a new refresh token (in a new family unless given) and return the secret."""
    token = secrets.token_urlsafe(32)
    await queries.create_refresh_token(
        conn,
        family_id=family_id or uuid.uuid4(),
        user_id=user_id,
        digest=refresh_digest(token),
        expires_at=datetime.now(UTC) + timedelta(seconds=ttl_s),
    )
    return token


class RefreshTokenService:
    """Rotation and revocation of refresh-token families; every outcome is audited."""

    def __init__(self, db: Database, ttl_s: int) -> None:
        self._db = db
        self._ttl_s = ttl_s

    async def rotate(self, actor: Actor, token: str | None) -> Rotated:
        """Consume `token` and issue its successor; 401 when unknown, expired, revoked or reused.

        Reuse revokes the family in a committed transaction before the 401 is raised.
        """
        if not token:
            raise AuthenticationError(_INVALID)
        reused = False
        async with self._db.transaction() as conn:
            row = await queries.get_refresh_token_by_digest(conn, digest=refresh_digest(token))
            if row is None or row.revoked_at is not None:
                raise AuthenticationError(_INVALID)
            who = Actor(user_id=row.user_id, email=None, request_id=actor.request_id, ip=actor.ip)
            if row.used_at is not None:
                revoked = await queries.revoke_refresh_family(conn, family_id=row.family_id)
                await record(
                    conn,
                    who,
                    "auth.refresh_reuse",
                    "user",
                    row.user_id,
                    after={"family_id": str(row.family_id), "revoked_count": revoked},
                )
                reused = True
            else:
                user = await user_queries.get_user(conn, id=row.user_id)
                if row.expires_at <= datetime.now(UTC) or user is None or user.disabled:
                    raise AuthenticationError(_INVALID)
                if await queries.mark_refresh_token_used(conn, id=row.id) != 1:
                    raise AuthenticationError(_INVALID)
                successor = await issue_refresh_token(conn, row.user_id, self._ttl_s, row.family_id)
                await record(conn, who, "auth.refresh", "user", row.user_id)
        if reused:
            raise AuthenticationError(_INVALID)
        return Rotated(user_id=row.user_id, refresh_token=successor)

    async def revoke(self, actor: Actor, token: str | None) -> None:
        """Revoke the family of `token` (logout); unknown or missing tokens are ignored."""
        if not token:
            return
        async with self._db.transaction() as conn:
            row = await queries.get_refresh_token_by_digest(conn, digest=refresh_digest(token))
            if row is None:
                return
            await queries.revoke_refresh_family(conn, family_id=row.family_id)
            who = Actor(user_id=row.user_id, email=None, request_id=actor.request_id, ip=actor.ip)
            await record(conn, who, "auth.logout", "user", row.user_id)
