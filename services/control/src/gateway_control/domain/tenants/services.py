"""Tenant use cases: create, list, read, activate/suspend (which re-publishes the tenant's keys)."""

from __future__ import annotations

import uuid

from gateway_control.database import Database
from gateway_control.db.tables import Tenant as TenantRow
from gateway_control.domain.audit.services import Actor, record
from gateway_control.domain.tenants.repositories import TenantRepository
from gateway_control.domain.tenants.schemas import (
    Tenant,
    TenantCreate,
    TenantPage,
    TenantStatus,
    TenantUpdate,
)
from gateway_control.publishing.key_cache import KeyRecordPublisher


def to_tenant(row: TenantRow) -> Tenant:
    """The API view of a tenant row."""
    status: TenantStatus = "suspended" if row.status == "suspended" else "active"
    return Tenant(
        id=row.id,
        name=row.name,
        status=status,
        is_personal=row.is_personal,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


class TenantService:
    """Tenant operations; each mutation is audited in its own transaction."""

    def __init__(self, db: Database, key_records: KeyRecordPublisher) -> None:
        self._db = db
        self._key_records = key_records

    async def create(self, actor: Actor, data: TenantCreate) -> Tenant:
        """Create an active tenant."""
        async with self._db.transaction() as conn:
            tenant = to_tenant(await TenantRepository(conn).create(data.name))
            await record(conn, actor, "tenant.create", "tenant", tenant.id, after=tenant)
        return tenant

    async def page(self, limit: int, offset: int) -> TenantPage:
        """One page of tenants ordered by name."""
        async with self._db.connection() as conn:
            rows, total = await TenantRepository(conn).page(limit, offset)
        return TenantPage(items=[to_tenant(r) for r in rows], limit=limit, offset=offset, total=total)

    async def get(self, tenant_id: uuid.UUID) -> Tenant:
        """One tenant."""
        async with self._db.connection() as conn:
            return to_tenant(await TenantRepository(conn).get(tenant_id))

    async def update(self, actor: Actor, tenant_id: uuid.UUID, data: TenantUpdate) -> Tenant:
        """Change a tenant's status; its keys' records are rewritten so the proxy sees it at once.

        The rewrite also happens when the status did not change, so repeating a request whose
        publication failed repairs it.
        """
        async with self._db.transaction() as conn:
            repo = TenantRepository(conn)
            before = to_tenant(await repo.get(tenant_id))
            after = to_tenant(await repo.set_status(tenant_id, data.status))
            await record(conn, actor, "tenant.update", "tenant", tenant_id, before=before, after=after)
        await self._key_records.publish_tenant(tenant_id)
        return after
