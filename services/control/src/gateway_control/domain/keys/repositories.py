"""API key rows in Postgres, through the sqlc-generated queries."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from gateway_control.database import Connection
from gateway_control.db import api_keys as queries
from gateway_control.db.tables import ApiKey
from gateway_control.errors import NotFoundError


@dataclass(frozen=True, slots=True)
class KeySettings:
    """What a key may do: allow-list and limit overrides (None inherits)."""

    name: str
    allowed_models: list[str]
    rpm_limit: int | None = None
    tpm_limit: int | None = None
    max_parallel: int | None = None
    disabled: bool = False


def key_not_found(key_id: uuid.UUID) -> NotFoundError:
    """The error for an unknown key, and for a key the caller may not see."""
    return NotFoundError(f"key {key_id} does not exist")


class ApiKeyRepository:
    """Key queries on one connection; a missing key raises NotFoundError."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def create(
        self,
        *,
        tenant_id: uuid.UUID,
        user_id: uuid.UUID | None,
        digest: str,
        prefix: str,
        last4: str,
        settings: KeySettings,
        expires_at: datetime | None,
        rotated_from: uuid.UUID | None = None,
    ) -> ApiKey:
        """Insert a key by its digest (the secret itself is never stored)."""
        row = await queries.create_api_key(
            self._conn,
            tenant_id=tenant_id,
            user_id=user_id,
            name=settings.name,
            digest=digest,
            prefix=prefix,
            last4=last4,
            allowed_models=settings.allowed_models,
            allowed_endpoints=[],
            rpm_limit=settings.rpm_limit,
            tpm_limit=settings.tpm_limit,
            max_parallel=settings.max_parallel,
            expires_at=expires_at,
            last_rotated_from=rotated_from,
        )
        if row is None:
            raise RuntimeError("INSERT ... RETURNING returned no row")
        return row

    async def get(self, key_id: uuid.UUID) -> ApiKey:
        """The key with this id."""
        row = await queries.get_api_key(self._conn, id=key_id)
        if row is None:
            raise key_not_found(key_id)
        return row

    async def page(self, tenant_id: uuid.UUID, limit: int, offset: int) -> tuple[list[ApiKey], int]:
        """One page of a tenant's keys (newest first) and how many it has in all."""
        rows = await queries.list_api_keys_by_tenant(
            self._conn, tenant_id=tenant_id, limit=limit, offset=offset
        )
        total = await queries.count_api_keys_by_tenant(self._conn, tenant_id=tenant_id)
        return rows, total or 0

    async def page_for_user(self, user_id: uuid.UUID, limit: int, offset: int) -> tuple[list[ApiKey], int]:
        """One page of the keys a user made for themselves (newest first), and the total."""
        rows = await queries.list_api_keys_by_user(self._conn, user_id=user_id, limit=limit, offset=offset)
        total = await queries.count_api_keys_by_user(self._conn, user_id=user_id)
        return rows, total or 0

    async def update(self, key_id: uuid.UUID, settings: KeySettings) -> ApiKey:
        """Replace a key's name, allow-list, limit overrides and disabled flag."""
        row = await queries.update_api_key_settings(
            self._conn,
            id=key_id,
            name=settings.name,
            allowed_models=settings.allowed_models,
            rpm_limit=settings.rpm_limit,
            tpm_limit=settings.tpm_limit,
            max_parallel=settings.max_parallel,
            disabled=settings.disabled,
        )
        if row is None:
            raise key_not_found(key_id)
        return row

    async def expire_by(self, key_id: uuid.UUID, expires_at: datetime) -> ApiKey | None:
        """Make an unrevoked key expire at `expires_at` at the latest; None when revoked."""
        return await queries.shorten_api_key_expiry(self._conn, id=key_id, expires_at=expires_at)

    async def revoke(self, key_id: uuid.UUID) -> ApiKey | None:
        """Revoke a key now; None when it was already revoked (or does not exist)."""
        return await queries.revoke_api_key(self._conn, id=key_id)
