"""Tenant rows in Postgres, through the sqlc-generated queries."""

from __future__ import annotations

import uuid

from gateway_control.database import Connection
from gateway_control.db import tenants as queries
from gateway_control.db.tables import Tenant
from gateway_control.errors import NotFoundError


class TenantRepository:
    """Tenant queries on one connection; a missing tenant raises NotFoundError."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def create(self, name: str) -> Tenant:
        """Insert a tenant (a duplicate name raises the driver's unique violation)."""
        row = await queries.create_tenant(
            self._conn, name=name, is_personal=False, rpm_limit=None, tpm_limit=None, max_parallel=None
        )
        if row is None:
            raise RuntimeError("INSERT ... RETURNING returned no row")
        return row

    async def get(self, tenant_id: uuid.UUID) -> Tenant:
        """The tenant with this id."""
        row = await queries.get_tenant(self._conn, id=tenant_id)
        if row is None:
            raise NotFoundError(f"tenant {tenant_id} does not exist")
        return row

    async def page(self, limit: int, offset: int, *, include_personal: bool) -> tuple[list[Tenant], int]:
        """One page of tenants by name, and how many there are in all."""
        rows = await queries.list_tenants_by_kind(
            self._conn, include_personal=include_personal, limit=limit, offset=offset
        )
        total = await queries.count_tenants_by_kind(self._conn, include_personal=include_personal)
        return rows, total or 0

    async def page_for_user(self, user_id: uuid.UUID, limit: int, offset: int) -> tuple[list[Tenant], int]:
        """One page of the tenants a user belongs to, and how many there are in all."""
        rows = await queries.list_tenants_for_user(self._conn, user_id=user_id, limit=limit, offset=offset)
        total = await queries.count_tenants_for_user(self._conn, user_id=user_id)
        return rows, total or 0

    async def set_allowed_models(self, tenant_id: uuid.UUID, models: list[str]) -> Tenant:
        """Replace the models a tenant's keys may use (empty: every model)."""
        row = await queries.set_tenant_allowed_models(self._conn, id=tenant_id, allowed_models=models)
        if row is None:
            raise NotFoundError(f"tenant {tenant_id} does not exist")
        return row

    async def set_status(self, tenant_id: uuid.UUID, status: str) -> Tenant:
        """Activate or suspend a tenant."""
        row = await queries.update_tenant_status(self._conn, id=tenant_id, status=status)
        if row is None:
            raise NotFoundError(f"tenant {tenant_id} does not exist")
        return row

    async def set_limits(
        self, tenant_id: uuid.UUID, rpm: int | None, tpm: int | None, parallel: int | None
    ) -> Tenant:
        """Replace a tenant's rate-limit overrides (None inherits the defaults)."""
        row = await queries.update_tenant_limits(
            self._conn, id=tenant_id, rpm_limit=rpm, tpm_limit=tpm, max_parallel=parallel
        )
        if row is None:
            raise NotFoundError(f"tenant {tenant_id} does not exist")
        return row
