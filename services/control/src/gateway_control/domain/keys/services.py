"""Key use cases: create (the secret is returned once), list, read, change, rotate, revoke.

After each change commits, the key's record is written to Redis and an invalidation is sent, so
the proxy applies it without asking Postgres. Access: a key is visible to the members of its
tenant (viewer and up); changing it takes a tenant admin, or the member who owns the key.
Keys of tenants the caller is not in answer 404, like unknown ids.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import msgspec
from gateway_common.apikeys import display_parts, generate_key, key_digest

from gateway_control.database import Connection, Database
from gateway_control.db.tables import ApiKey as ApiKeyRow
from gateway_control.domain.audit.services import Actor, record
from gateway_control.domain.budgets.defaults import DefaultBudgets
from gateway_control.domain.budgets.services import carry_key_budgets
from gateway_control.domain.keys.repositories import ApiKeyRepository, KeySettings, key_not_found
from gateway_control.domain.keys.schemas import (
    ApiKey,
    ApiKeyCreate,
    ApiKeyPage,
    ApiKeyRotate,
    ApiKeyUpdate,
    CreatedApiKey,
)
from gateway_control.domain.tenants.repositories import TenantRepository
from gateway_control.domain.tenants.services import check_models_exist
from gateway_control.errors import ConflictError, InvalidInputError
from gateway_control.publishing.key_cache import KeyRecordPublisher
from gateway_control.security.principal import Principal, TenantRole
from gateway_control.security.rbac import authorize_tenant


def to_api_key(row: ApiKeyRow) -> ApiKey:
    """The API view of a key row (never the secret, which is not stored)."""
    return ApiKey(
        id=row.id,
        tenant_id=row.tenant_id,
        user_id=row.user_id,
        name=row.name,
        prefix=row.prefix,
        last4=row.last4,
        allowed_models=row.allowed_models,
        rpm_limit=row.rpm_limit,
        tpm_limit=row.tpm_limit,
        max_parallel=row.max_parallel,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        disabled=row.disabled,
        rotated_from=row.last_rotated_from,
        created_at=row.created_at,
    )


def _override(value: int | None) -> int | None:
    # 0 and null both mean "no override" (inherit); the database stores NULL for that.
    return value or None


def authorize_key(principal: Principal, row: ApiKeyRow, minimum: TenantRole) -> None:
    """Require `minimum` in the key's tenant; a member may always act on a key they own."""
    own = row.user_id == principal.user_id and principal.tenant_role(row.tenant_id) is not None
    if own:
        return
    authorize_tenant(principal, row.tenant_id, minimum, hidden=key_not_found(row.id))


async def _entitled_models(conn: Connection, tenant_id: uuid.UUID, models: list[str]) -> list[str]:
    """`models` checked against the catalogue and the tenant's entitlements (422 otherwise)."""
    names = await check_models_exist(conn, models, "allowed_models")
    tenant = await TenantRepository(conn).get(tenant_id)
    outside = sorted(set(names) - set(tenant.allowed_models)) if tenant.allowed_models else []
    if outside:
        raise InvalidInputError(
            f"the tenant is not entitled to {', '.join(outside)}", details={"param": "allowed_models"}
        )
    return names


class ApiKeyService:
    """Key operations; each mutation is audited and published to the data plane."""

    def __init__(
        self,
        db: Database,
        pepper: bytes,
        key_records: KeyRecordPublisher,
        default_budgets: DefaultBudgets | None = None,
    ) -> None:
        self._db = db
        self._pepper = pepper
        self._key_records = key_records
        self._default_budgets = default_budgets

    async def create(
        self, actor: Actor, tenant_id: uuid.UUID, data: ApiKeyCreate, *, user_id: uuid.UUID | None = None
    ) -> CreatedApiKey:
        """Create a key for a tenant (owned by `user_id` when given); the secret is returned once."""
        if data.expires_at is not None and data.expires_at <= datetime.now(UTC):
            raise InvalidInputError("expires_at must be in the future", details={"param": "expires_at"})
        async with self._db.transaction() as conn:
            await TenantRepository(conn).get(tenant_id)
            settings = KeySettings(
                name=data.name,
                allowed_models=await _entitled_models(conn, tenant_id, data.allowed_models),
                rpm_limit=_override(data.rpm_limit),
                tpm_limit=_override(data.tpm_limit),
                max_parallel=_override(data.max_parallel),
            )
            created, secret = await self._insert(conn, tenant_id, user_id, settings, data.expires_at, None)
            await record(conn, actor, "api_key.create", "api_key", created.id, after=to_api_key(created))
            budgeted = self._default_budgets is not None and await self._default_budgets.apply(
                conn, actor, "key", created.id, tenant_id
            )
        if budgeted and self._default_budgets is not None:
            self._default_budgets.published()
        await self._key_records.publish_digest(created.digest)
        return CreatedApiKey(key=secret, **msgspec.structs.asdict(to_api_key(created)))

    async def _insert(
        self,
        conn: Connection,
        tenant_id: uuid.UUID,
        user_id: uuid.UUID | None,
        settings: KeySettings,
        expires_at: datetime | None,
        rotated_from: uuid.UUID | None,
    ) -> tuple[ApiKeyRow, str]:
        secret = generate_key()
        prefix, last4 = display_parts(secret)
        row = await ApiKeyRepository(conn).create(
            tenant_id=tenant_id,
            user_id=user_id,
            digest=key_digest(self._pepper, secret),
            prefix=prefix,
            last4=last4,
            settings=settings,
            expires_at=expires_at,
            rotated_from=rotated_from,
        )
        return row, secret

    async def page(self, tenant_id: uuid.UUID, limit: int, offset: int) -> ApiKeyPage:
        """One page of a tenant's keys, newest first (404 when the tenant does not exist)."""
        async with self._db.connection() as conn:
            await TenantRepository(conn).get(tenant_id)
            rows, total = await ApiKeyRepository(conn).page(tenant_id, limit, offset)
        return ApiKeyPage(items=[to_api_key(r) for r in rows], limit=limit, offset=offset, total=total)

    async def page_for_user(self, user_id: uuid.UUID, limit: int, offset: int) -> ApiKeyPage:
        """One page of the keys a user made for themselves, newest first."""
        async with self._db.connection() as conn:
            rows, total = await ApiKeyRepository(conn).page_for_user(user_id, limit, offset)
        return ApiKeyPage(items=[to_api_key(r) for r in rows], limit=limit, offset=offset, total=total)

    async def get(self, principal: Principal, key_id: uuid.UUID) -> ApiKey:
        """One key (tenant viewers and up, or its owner)."""
        async with self._db.connection() as conn:
            row = await ApiKeyRepository(conn).get(key_id)
        authorize_key(principal, row, TenantRole.VIEWER)
        return to_api_key(row)

    async def update(
        self, actor: Actor, principal: Principal, key_id: uuid.UUID, data: ApiKeyUpdate
    ) -> ApiKey:
        """Change a key's name, allow-list, limits or disabled flag; the proxy applies it at once."""
        async with self._db.transaction() as conn:
            repo = ApiKeyRepository(conn)
            row = await repo.get(key_id)
            authorize_key(principal, row, TenantRole.ADMIN)
            if row.revoked_at is not None:
                raise ConflictError(f"key {key_id} is revoked")
            models = row.allowed_models
            if data.allowed_models is not None:
                models = await _entitled_models(conn, row.tenant_id, data.allowed_models)
            settings = KeySettings(
                name=row.name if data.name is None else data.name,
                allowed_models=models,
                rpm_limit=row.rpm_limit if data.rpm_limit is None else _override(data.rpm_limit),
                tpm_limit=row.tpm_limit if data.tpm_limit is None else _override(data.tpm_limit),
                max_parallel=row.max_parallel if data.max_parallel is None else _override(data.max_parallel),
                disabled=row.disabled if data.disabled is None else data.disabled,
            )
            after = to_api_key(await repo.update(key_id, settings))
            await record(
                conn, actor, "api_key.update", "api_key", key_id, before=to_api_key(row), after=after
            )
        await self._key_records.publish_digest(row.digest)
        return after

    async def rotate(
        self, actor: Actor, principal: Principal, key_id: uuid.UUID, data: ApiKeyRotate
    ) -> CreatedApiKey:
        """Issue a successor with the same settings; the old key works until the grace period ends.

        The old key's record gets the new expiry (never a later one than it had), so the proxy
        stops accepting it on time without further action.
        """
        async with self._db.transaction() as conn:
            repo = ApiKeyRepository(conn)
            old = await repo.get(key_id)
            authorize_key(principal, old, TenantRole.ADMIN)
            if old.revoked_at is not None:
                raise ConflictError(f"key {key_id} is revoked")
            now = datetime.now(UTC)
            if old.expires_at is not None and old.expires_at <= now:
                raise ConflictError(f"key {key_id} has expired")
            settings = KeySettings(
                name=old.name,
                allowed_models=old.allowed_models,
                rpm_limit=old.rpm_limit,
                tpm_limit=old.tpm_limit,
                max_parallel=old.max_parallel,
                disabled=old.disabled,
            )
            new, secret = await self._insert(
                conn, old.tenant_id, old.user_id, settings, old.expires_at, old.id
            )
            carried = await carry_key_budgets(conn, actor, old.id, new.id, old.tenant_id)
            ended = await repo.expire_by(key_id, now + timedelta(seconds=max(data.grace_period_s, 1)))
            before = to_api_key(old)
            await record(
                conn,
                actor,
                "api_key.rotate",
                "api_key",
                key_id,
                before=before,
                after={"old": before if ended is None else to_api_key(ended), "new": to_api_key(new)},
            )
        if carried and self._default_budgets is not None:
            self._default_budgets.published()
        await self._key_records.publish_digest(old.digest)
        await self._key_records.publish_digest(new.digest)
        return CreatedApiKey(key=secret, **msgspec.structs.asdict(to_api_key(new)))

    async def revoke(self, actor: Actor, principal: Principal, key_id: uuid.UUID) -> ApiKey:
        """Revoke a key (idempotent: revoking a revoked key returns it unchanged)."""
        async with self._db.transaction() as conn:
            repo = ApiKeyRepository(conn)
            row = await repo.get(key_id)
            authorize_key(principal, row, TenantRole.ADMIN)
            before = to_api_key(row)
            revoked = await repo.revoke(key_id)
            after = before if revoked is None else to_api_key(revoked)
            if revoked is not None:
                await record(conn, actor, "api_key.revoke", "api_key", key_id, before=before, after=after)
        # Published even when already revoked: it repairs a record a failed write left behind.
        await self._key_records.publish_digest(row.digest)
        return after
