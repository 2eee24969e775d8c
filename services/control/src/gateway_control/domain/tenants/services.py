"""Tenant use cases: create, list, read, change status, entitlements and limits (re-publishing keys)."""

from __future__ import annotations

import uuid

from gateway_control.database import Connection, Database
from gateway_control.db import models as model_queries
from gateway_control.db.tables import Tenant as TenantRow
from gateway_control.domain.audit.services import Actor, record
from gateway_control.domain.budgets.defaults import DefaultBudgets
from gateway_control.domain.tenants.repositories import TenantRepository
from gateway_control.domain.tenants.schemas import (
    Tenant,
    TenantCreate,
    TenantPage,
    TenantStatus,
    TenantUpdate,
)
from gateway_control.errors import InvalidInputError
from gateway_control.publishing.key_cache import KeyRecordPublisher
from gateway_control.security.principal import Principal


def to_tenant(row: TenantRow) -> Tenant:
    """The API view of a tenant row."""
    status: TenantStatus = "suspended" if row.status == "suspended" else "active"
    return Tenant(
        id=row.id,
        name=row.name,
        status=status,
        is_personal=row.is_personal,
        allowed_models=row.allowed_models,
        rpm_limit=row.rpm_limit,
        tpm_limit=row.tpm_limit,
        max_parallel=row.max_parallel,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


async def check_models_exist(conn: Connection, models: list[str], param: str) -> list[str]:
    """The sorted, de-duplicated model names; 422 naming `param` when one is not in the catalogue."""
    names = sorted(set(models))
    for name in names:
        if await model_queries.get_model_by_name(conn, name=name) is None:
            raise InvalidInputError(f"model {name!r} does not exist", details={"param": param})
    return names


def _override(requested: int | None, current: int | None) -> int | None:
    """The stored override: unchanged when not requested, None (inherit) for 0."""
    if requested is None:
        return current
    return requested or None


class TenantService:
    """Tenant operations; each mutation is audited in its own transaction."""

    def __init__(
        self, db: Database, key_records: KeyRecordPublisher, default_budgets: DefaultBudgets | None = None
    ) -> None:
        self._db = db
        self._key_records = key_records
        self._default_budgets = default_budgets

    async def create(self, actor: Actor, data: TenantCreate) -> Tenant:
        """Create an active tenant (with the default tenant budget, when one is configured)."""
        budgeted = False
        async with self._db.transaction() as conn:
            tenant = to_tenant(await TenantRepository(conn).create(data.name))
            await record(conn, actor, "tenant.create", "tenant", tenant.id, after=tenant)
            if self._default_budgets is not None:
                budgeted = await self._default_budgets.apply(conn, actor, "tenant", tenant.id, tenant.id)
        if budgeted and self._default_budgets is not None:
            self._default_budgets.published()
        return tenant

    async def page(
        self, principal: Principal, limit: int, offset: int, *, include_personal: bool = False
    ) -> TenantPage:
        """One page of tenants by name: all of them for platform admins, else the caller's own.

        Platform admins see personal tenants (one per user) only when they ask for them.
        """
        async with self._db.connection() as conn:
            repo = TenantRepository(conn)
            if principal.is_platform_admin:
                rows, total = await repo.page(limit, offset, include_personal=include_personal)
            else:
                rows, total = await repo.page_for_user(principal.user_id, limit, offset)
        return TenantPage(items=[to_tenant(r) for r in rows], limit=limit, offset=offset, total=total)

    async def get(self, tenant_id: uuid.UUID) -> Tenant:
        """One tenant."""
        async with self._db.connection() as conn:
            return to_tenant(await TenantRepository(conn).get(tenant_id))

    async def update(self, actor: Actor, tenant_id: uuid.UUID, data: TenantUpdate) -> Tenant:
        """Change a tenant's status, entitlements or limits; its key records are rewritten at once.

        The rewrite also happens when nothing changed, so repeating a request whose publication
        failed repairs it.
        """
        async with self._db.transaction() as conn:
            repo = TenantRepository(conn)
            before = to_tenant(await repo.get(tenant_id))
            row = None
            if data.status is not None:
                row = await repo.set_status(tenant_id, data.status)
            if data.allowed_models is not None:
                models = await check_models_exist(conn, data.allowed_models, "allowed_models")
                row = await repo.set_allowed_models(tenant_id, models)
            if data.changes_limits:
                row = await repo.set_limits(
                    tenant_id,
                    _override(data.rpm_limit, before.rpm_limit),
                    _override(data.tpm_limit, before.tpm_limit),
                    _override(data.max_parallel, before.max_parallel),
                )
            after = before if row is None else to_tenant(row)
            await record(conn, actor, "tenant.update", "tenant", tenant_id, before=before, after=after)
        await self._key_records.publish_tenant(tenant_id)
        return after
