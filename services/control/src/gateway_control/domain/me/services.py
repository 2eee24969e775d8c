"""Self-service use cases: what any signed-in user may do to their own account.

Keys made here belong to the caller (`user_id`), in their personal tenant or in a tenant where
they are at least a member, and within that tenant's model entitlements (checked by the key
service). A key that is not mine answers 404, like an unknown id.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime

from gateway_control.database import Database
from gateway_control.db import memberships as membership_queries
from gateway_control.db import refresh_tokens as refresh_queries
from gateway_control.db import tenants as tenant_queries
from gateway_control.db import users as user_queries
from gateway_control.domain.audit.services import Actor, record
from gateway_control.domain.keys.repositories import ApiKeyRepository, key_not_found
from gateway_control.domain.keys.schemas import ApiKey, ApiKeyCreate, CreatedApiKey
from gateway_control.domain.keys.services import ApiKeyService
from gateway_control.domain.me.schemas import (
    KeyUsage,
    MyApiKeyCreate,
    MyTenant,
    MyTenantList,
    MyUsage,
    PasswordChange,
    ProfileUpdate,
)
from gateway_control.domain.usage.schemas import UsageSummary
from gateway_control.domain.usage.services import UsageService, check_window
from gateway_control.domain.users.schemas import User
from gateway_control.domain.users.services import to_user, user_not_found
from gateway_control.errors import ConflictError, NotFoundError, PermissionDeniedError
from gateway_control.security.login_limits import LoginRateLimiter
from gateway_control.security.passwords import PasswordHashing
from gateway_control.security.principal import Principal, TenantRole
from gateway_control.security.rbac import tenant_not_found

_USAGE_KEYS = 500
_USAGE_CONCURRENCY = 8


class SelfService:
    """The signed-in user's own account; every mutation is audited."""

    def __init__(
        self,
        db: Database,
        passwords: PasswordHashing,
        login_limits: LoginRateLimiter,
        keys: ApiKeyService,
        usage: UsageService,
    ) -> None:
        self._db = db
        self._passwords = passwords
        self._login_limits = login_limits
        self._keys = keys
        self._usage = usage

    async def profile(self, principal: Principal) -> User:
        """My account."""
        async with self._db.connection() as conn:
            row = await user_queries.get_user(conn, id=principal.user_id)
        if row is None:
            raise user_not_found(principal.user_id)
        return to_user(row)

    async def update_profile(self, actor: Actor, principal: Principal, data: ProfileUpdate) -> User:
        """Change my display name."""
        async with self._db.transaction() as conn:
            row = await user_queries.get_user(conn, id=principal.user_id)
            if row is None:
                raise user_not_found(principal.user_id)
            updated = await user_queries.update_user(
                conn,
                id=row.id,
                display_name=row.display_name if data.display_name is None else data.display_name,
                disabled=row.disabled,
                is_platform_admin=row.is_platform_admin,
            )
            if updated is None:
                raise user_not_found(principal.user_id)
            before, after = to_user(row), to_user(updated)
            await record(conn, actor, "user.update_profile", "user", row.id, before=before, after=after)
        return after

    async def change_password(self, actor: Actor, principal: Principal, data: PasswordChange) -> None:
        """Replace my password (local accounts only) and revoke every refresh token I hold.

        Wrong current passwords count against the sign-in failure limits, so a stolen access
        token cannot be used to guess the password faster than the login form allows.
        """
        await self._login_limits.check(principal.email, actor.ip)
        async with self._db.connection() as conn:
            row = await user_queries.get_user(conn, id=principal.user_id)
        if row is None:
            raise user_not_found(principal.user_id)
        if row.password_hash is None:
            raise ConflictError("this account signs in through SSO and has no password to change")
        if not await self._passwords.verify_async(row.password_hash, data.current_password):
            await self._login_limits.failed(principal.email, actor.ip)
            raise PermissionDeniedError("the current password is wrong")
        new_hash = await self._passwords.hash_async(data.new_password)
        async with self._db.transaction() as conn:
            await user_queries.update_user_password_hash(conn, id=row.id, password_hash=new_hash)
            revoked = await refresh_queries.revoke_user_refresh_tokens(conn, user_id=row.id)
            await record(
                conn, actor, "user.change_password", "user", row.id, after={"revoked_sessions": revoked}
            )

    async def tenants(self, principal: Principal) -> MyTenantList:
        """The tenants I belong to, with my role."""
        async with self._db.connection() as conn:
            rows = await membership_queries.list_memberships_for_user(conn, user_id=principal.user_id)
        return MyTenantList(
            items=[
                MyTenant(
                    id=r.tenant_id,
                    name=r.tenant_name,
                    status="suspended" if r.tenant_status == "suspended" else "active",
                    is_personal=r.is_personal,
                    role=TenantRole(r.role).value,
                )
                for r in rows
            ]
        )

    async def _key_tenant(self, principal: Principal, tenant_id: uuid.UUID | None) -> uuid.UUID:
        if tenant_id is None:
            async with self._db.connection() as conn:
                personal = await tenant_queries.get_personal_tenant(conn, personal_owner_id=principal.user_id)
            if personal is None:
                raise NotFoundError("you have no personal tenant")
            return personal.id
        # Membership is required even of platform admins: these are the caller's own keys.
        role = principal.tenant_role(tenant_id)
        if role is None:
            raise tenant_not_found(tenant_id)
        if not role.at_least(TenantRole.MEMBER):
            raise PermissionDeniedError("creating your own keys needs the member role in the tenant")
        return tenant_id

    async def create_key(self, actor: Actor, principal: Principal, data: MyApiKeyCreate) -> CreatedApiKey:
        """A key owned by me; the secret is returned once."""
        tenant_id = await self._key_tenant(principal, data.tenant_id)
        spec = ApiKeyCreate(
            name=data.name,
            allowed_models=data.allowed_models,
            expires_at=data.expires_at,
            rpm_limit=data.rpm_limit,
            tpm_limit=data.tpm_limit,
            max_parallel=data.max_parallel,
        )
        return await self._keys.create(actor, tenant_id, spec, user_id=principal.user_id)

    async def revoke_key(self, actor: Actor, principal: Principal, key_id: uuid.UUID) -> ApiKey:
        """Revoke one of my keys; another user's key answers 404."""
        async with self._db.connection() as conn:
            row = await ApiKeyRepository(conn).get(key_id)
        if row.user_id != principal.user_id:
            raise key_not_found(key_id)
        return await self._keys.revoke(actor, principal, key_id)

    async def usage(
        self, principal: Principal, start: datetime | None, end: datetime | None, timezone: str | None
    ) -> MyUsage:
        """Totals of my newest keys, each asked of accounting (a few at a time), and their sum."""
        check_window(start, end, timezone)
        page = await self._keys.page_for_user(principal.user_id, _USAGE_KEYS, 0)
        gate = asyncio.Semaphore(_USAGE_CONCURRENCY)

        async def one(key: ApiKey) -> KeyUsage:
            async with gate:
                summary = await self._usage.summary(
                    tenant_id=None, key_id=key.id, start=start, end=end, timezone=timezone
                )
            return KeyUsage(key_id=key.id, tenant_id=key.tenant_id, name=key.name, usage=summary)

        per_key = list(await asyncio.gather(*(one(k) for k in page.items)))
        total = UsageSummary(
            requests=sum(k.usage.requests for k in per_key),
            prompt_tokens=sum(k.usage.prompt_tokens for k in per_key),
            completion_tokens=sum(k.usage.completion_tokens for k in per_key),
            cost_micro_usd=sum(k.usage.cost_micro_usd for k in per_key),
            errors=sum(k.usage.errors for k in per_key),
        )
        return MyUsage(total=total, keys=per_key)
