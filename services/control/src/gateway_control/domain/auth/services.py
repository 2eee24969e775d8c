"""Authentication use cases: login, the principal behind a token, and the bootstrap admin."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping

from gateway_control.database import Database
from gateway_control.db import memberships as membership_queries
from gateway_control.db.tables import User
from gateway_control.domain.audit.services import Actor, record
from gateway_control.domain.auth.refresh import issue_refresh_token
from gateway_control.domain.auth.repositories import UserRepository
from gateway_control.domain.auth.schemas import AccessTokenResponse, LoginRequest
from gateway_control.domain.tenants.personal import ensure_personal_tenant
from gateway_control.errors import AuthenticationError
from gateway_control.security.login_limits import LoginRateLimiter
from gateway_control.security.passwords import PasswordHashing
from gateway_control.security.principal import Principal, Role, TenantRole
from gateway_control.security.tokens import AccessClaims, AccessTokens

log = logging.getLogger(__name__)

_BAD_CREDENTIALS = "invalid email or password"


def principal_for(
    user: User, token_id: str, memberships: Mapping[uuid.UUID, TenantRole] | None = None
) -> Principal:
    """The principal a user acts as: the platform role and a role per tenant they belong to."""
    roles = frozenset({Role.PLATFORM_ADMIN}) if user.is_platform_admin else frozenset[Role]()
    return Principal(
        user_id=user.id, email=user.email, roles=roles, token_id=token_id, tenant_roles=memberships or {}
    )


class AuthService:
    """Local sign-in and token-to-principal resolution."""

    def __init__(
        self,
        db: Database,
        passwords: PasswordHashing,
        tokens: AccessTokens,
        login_limits: LoginRateLimiter | None = None,
        refresh_ttl_s: int = 14 * 86400,
    ) -> None:
        self._refresh_ttl_s = refresh_ttl_s
        self._db = db
        self._passwords = passwords
        self._tokens = tokens
        self._login_limits = login_limits

    async def login(self, actor: Actor, data: LoginRequest) -> tuple[AccessTokenResponse, str]:
        """Check an email and password; the same 401 for unknown emails, wrong passwords, disabled users.

        Returns the access token and a refresh token starting a new family (for the cookie).

        Attempts over the per-email or per-address failure limit get 429 before any check.
        """
        if self._login_limits is not None:
            await self._login_limits.check(data.email, actor.ip)
        async with self._db.connection() as conn:
            user = await UserRepository(conn).find_by_email(data.email)
        stored = None if user is None else user.password_hash
        verified = await self._passwords.verify_async(stored, data.password)
        if user is None or not verified or user.disabled:
            async with self._db.transaction() as conn:
                await record(
                    conn,
                    Actor(user_id=None, email=data.email.lower(), request_id=actor.request_id, ip=actor.ip),
                    "auth.login_failed",
                    "user",
                    None if user is None else user.id,
                )
            if self._login_limits is not None:
                await self._login_limits.failed(data.email, actor.ip)
            raise AuthenticationError(_BAD_CREDENTIALS)
        if self._login_limits is not None:
            await self._login_limits.succeeded(data.email)
        async with self._db.transaction() as conn:
            if stored is not None and self._passwords.needs_rehash(stored):
                await UserRepository(conn).set_password_hash(
                    user.id, await self._passwords.hash_async(data.password)
                )
            who = Actor(user_id=user.id, email=user.email, request_id=actor.request_id, ip=actor.ip)
            await record(conn, who, "auth.login", "user", user.id)
            refresh_token = await issue_refresh_token(conn, user.id, self._refresh_ttl_s)
        return self.access_token(user.id), refresh_token

    def access_token(self, user_id: uuid.UUID) -> AccessTokenResponse:
        """A new access token for `user_id` in the token response shape."""
        issued = self._tokens.issue(user_id)
        return AccessTokenResponse(access_token=issued.token, expires_in=issued.expires_in)

    async def principal(self, claims: AccessClaims) -> Principal:
        """The principal behind verified claims; the user must still exist and be enabled."""
        async with self._db.connection() as conn:
            user = await UserRepository(conn).get(claims.user_id)
            if user is None or user.disabled:
                raise AuthenticationError("the token's user no longer exists or is disabled")
            rows = await membership_queries.list_memberships_for_user(conn, user_id=user.id)
        return principal_for(user, claims.token_id, {row.tenant_id: TenantRole(row.role) for row in rows})


async def bootstrap_platform_admin(
    db: Database, passwords: PasswordHashing, email: str, password: str
) -> None:
    """Make sure `email` exists as a platform admin (idempotent).

    A new user gets `password`; an existing user keeps their password (so a password changed
    through the API survives restarts) and is granted the platform admin role if missing.
    """
    async with db.transaction() as conn:
        users = UserRepository(conn)
        user = await users.find_by_email(email)
        actor = Actor.system("bootstrap")
        if user is None:
            created = await users.create_platform_admin(email, await passwords.hash_async(password))
            await record(
                conn,
                actor,
                "user.create",
                "user",
                created.id,
                after={"email": created.email, "platform_admin": True},
            )
            await ensure_personal_tenant(conn, created)
            log.info("bootstrap platform admin created", extra={"user_id": str(created.id)})
            return
        await ensure_personal_tenant(conn, user)
        if not user.is_platform_admin:
            await users.grant_platform_admin(user.id)
            await record(
                conn, actor, "user.grant_platform_admin", "user", user.id, after={"platform_admin": True}
            )
            log.info("bootstrap user granted platform admin", extra={"user_id": str(user.id)})
