"""API key rows in Postgres, through the sqlc-generated queries."""

from __future__ import annotations

import uuid
from datetime import datetime

from gateway_control.database import Connection
from gateway_control.db import api_keys as queries
from gateway_control.db.tables import ApiKey
from gateway_control.errors import NotFoundError


class ApiKeyRepository:
    """Key queries on one connection; a missing key raises NotFoundError."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def create(
        self,
        *,
        tenant_id: uuid.UUID,
        name: str,
        digest: str,
        prefix: str,
        last4: str,
        allowed_models: list[str],
        expires_at: datetime | None,
    ) -> ApiKey:
        """Insert a key by its digest (the secret itself is never stored)."""
        row = await queries.create_api_key(
            self._conn,
            tenant_id=tenant_id,
            user_id=None,
            name=name,
            digest=digest,
            prefix=prefix,
            last4=last4,
            allowed_models=allowed_models,
            allowed_endpoints=[],
            rpm_limit=None,
            tpm_limit=None,
            max_parallel=None,
            expires_at=expires_at,
            last_rotated_from=None,
        )
        if row is None:
            raise RuntimeError("INSERT ... RETURNING returned no row")
        return row

    async def get(self, key_id: uuid.UUID) -> ApiKey:
        """The key with this id."""
        row = await queries.get_api_key(self._conn, id=key_id)
        if row is None:
            raise NotFoundError(f"key {key_id} does not exist")
        return row

    async def page(self, tenant_id: uuid.UUID, limit: int, offset: int) -> tuple[list[ApiKey], int]:
        """One page of a tenant's keys (newest first) and how many it has in all."""
        rows = await queries.list_api_keys_by_tenant(
            self._conn, tenant_id=tenant_id, limit=limit, offset=offset
        )
        total = await queries.count_api_keys_by_tenant(self._conn, tenant_id=tenant_id)
        return rows, total or 0

    async def revoke(self, key_id: uuid.UUID) -> ApiKey | None:
        """Revoke a key now; None when it was already revoked (or does not exist)."""
        return await queries.revoke_api_key(self._conn, id=key_id)
