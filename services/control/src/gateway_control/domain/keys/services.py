"""Key use cases: create (the secret is returned once), list, revoke.

After each change commits, the key's record is written to Redis and an invalidation is sent, so
the proxy accepts a new key and refuses a revoked one without asking Postgres.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import msgspec
from gateway_common.apikeys import display_parts, generate_key, key_digest

from gateway_control.database import Database
from gateway_control.db import models as model_queries
from gateway_control.db.tables import ApiKey as ApiKeyRow
from gateway_control.domain.audit.services import Actor, record
from gateway_control.domain.keys.repositories import ApiKeyRepository
from gateway_control.domain.keys.schemas import ApiKey, ApiKeyCreate, ApiKeyPage, CreatedApiKey
from gateway_control.domain.tenants.repositories import TenantRepository
from gateway_control.errors import InvalidInputError
from gateway_control.publishing.key_cache import KeyRecordPublisher


def to_api_key(row: ApiKeyRow) -> ApiKey:
    """The API view of a key row (never the secret, which is not stored)."""
    return ApiKey(
        id=row.id,
        tenant_id=row.tenant_id,
        name=row.name,
        prefix=row.prefix,
        last4=row.last4,
        allowed_models=row.allowed_models,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        disabled=row.disabled,
        created_at=row.created_at,
    )


class ApiKeyService:
    """Key operations; each mutation is audited and published to the data plane."""

    def __init__(self, db: Database, pepper: bytes, key_records: KeyRecordPublisher) -> None:
        self._db = db
        self._pepper = pepper
        self._key_records = key_records

    async def create(self, actor: Actor, tenant_id: uuid.UUID, data: ApiKeyCreate) -> CreatedApiKey:
        """Create a key for a tenant; the response is the only place the secret ever appears."""
        if data.expires_at is not None and data.expires_at <= datetime.now(UTC):
            raise InvalidInputError("expires_at must be in the future", details={"param": "expires_at"})
        secret = generate_key()
        digest = key_digest(self._pepper, secret)
        prefix, last4 = display_parts(secret)
        async with self._db.transaction() as conn:
            await TenantRepository(conn).get(tenant_id)
            for model in sorted(set(data.allowed_models)):
                if await model_queries.get_model_by_name(conn, name=model) is None:
                    raise InvalidInputError(
                        f"model {model!r} does not exist", details={"param": "allowed_models"}
                    )
            row = await ApiKeyRepository(conn).create(
                tenant_id=tenant_id,
                name=data.name,
                digest=digest,
                prefix=prefix,
                last4=last4,
                allowed_models=sorted(set(data.allowed_models)),
                expires_at=data.expires_at,
            )
            key = to_api_key(row)
            await record(conn, actor, "api_key.create", "api_key", key.id, after=key)
        await self._key_records.publish_digest(digest)
        return CreatedApiKey(key=secret, **msgspec.structs.asdict(key))

    async def page(self, tenant_id: uuid.UUID, limit: int, offset: int) -> ApiKeyPage:
        """One page of a tenant's keys, newest first (404 when the tenant does not exist)."""
        async with self._db.connection() as conn:
            await TenantRepository(conn).get(tenant_id)
            rows, total = await ApiKeyRepository(conn).page(tenant_id, limit, offset)
        return ApiKeyPage(items=[to_api_key(r) for r in rows], limit=limit, offset=offset, total=total)

    async def revoke(self, actor: Actor, key_id: uuid.UUID) -> ApiKey:
        """Revoke a key (idempotent: revoking a revoked key returns it unchanged)."""
        async with self._db.transaction() as conn:
            repo = ApiKeyRepository(conn)
            row = await repo.get(key_id)
            before = to_api_key(row)
            revoked = await repo.revoke(key_id)
            after = before if revoked is None else to_api_key(revoked)
            if revoked is not None:
                await record(conn, actor, "api_key.revoke", "api_key", key_id, before=before, after=after)
        # Published even when already revoked: it repairs a record a failed write left behind.
        await self._key_records.publish_digest(row.digest)
        return after
