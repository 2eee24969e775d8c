"""Budget use cases: create, list, read, change and delete spending limits.

Access: a tenant's members (viewer and up) see its budgets and its keys' budgets. A key budget
is set by a tenant admin; a tenant budget caps what the whole tenant may spend, so only a
platform admin sets it (a tenant admin sees it but gets 403 changing it). Budgets of tenants the
caller is not in answer 404, like unknown ids. Every change is audited and published in the
next ConfigSnapshot, where the proxy starts reserving against a hard budget within a second.
"""

from __future__ import annotations

import uuid
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from gateway_control.database import Connection, Database
from gateway_control.db.budgets import GetBudgetRow
from gateway_control.db.tables import Budget as BudgetRow
from gateway_control.domain.audit.services import Actor, record
from gateway_control.domain.budgets.repositories import BudgetRepository, BudgetTerms, budget_not_found
from gateway_control.domain.budgets.schemas import Budget, BudgetCreate, BudgetList, BudgetUpdate
from gateway_control.domain.keys.repositories import ApiKeyRepository
from gateway_control.domain.tenants.repositories import TenantRepository
from gateway_control.errors import InvalidInputError, NotFoundError
from gateway_control.publishing.publisher import ConfigPublisher
from gateway_control.security.principal import Principal, TenantRole
from gateway_control.security.rbac import authorize_tenant


def to_budget(row: BudgetRow | GetBudgetRow, tenant_id: uuid.UUID) -> Budget:
    """The API view of a budget row."""
    return Budget(
        id=row.id,
        tenant_id=tenant_id,
        scope=row.scope,
        scope_id=row.scope_id,
        limit_micro_usd=row.limit_micro_usd,
        period=row.period,
        rolling_days=row.rolling_days,
        timezone=row.timezone,
        hard=row.hard,
        thresholds=row.thresholds,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def checked_terms(terms: BudgetTerms) -> BudgetTerms:
    """`terms` with sorted, unique thresholds; 422 for a bad zone or rolling day count."""
    if (terms.period == "rolling") != (terms.rolling_days is not None):
        raise InvalidInputError(
            "rolling_days is required for period 'rolling' and not allowed otherwise",
            details={"param": "rolling_days"},
        )
    try:
        ZoneInfo(terms.timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidInputError(
            f"unknown time zone {terms.timezone!r}", details={"param": "timezone"}
        ) from exc
    return BudgetTerms(
        limit_micro_usd=terms.limit_micro_usd,
        period=terms.period,
        rolling_days=terms.rolling_days,
        timezone=terms.timezone,
        hard=terms.hard,
        thresholds=sorted(set(terms.thresholds)),
    )


async def carry_key_budgets(
    conn: Connection, actor: Actor, old_key_id: uuid.UUID, new_key_id: uuid.UUID, tenant_id: uuid.UUID
) -> int:
    """Give a rotated key's successor the same budgets (so rotating cannot shed a cap); how many.

    The successor's spend is counted from its own requests: its budget starts at 0 in the
    current period, and the tenant's budget keeps capping both keys together.
    """
    repo = BudgetRepository(conn)
    carried = 0
    for row in await repo.list_for_key(old_key_id):
        terms = BudgetTerms(
            limit_micro_usd=row.limit_micro_usd,
            period=row.period,
            rolling_days=row.rolling_days,
            timezone=row.timezone,
            hard=row.hard,
            thresholds=row.thresholds,
        )
        created = to_budget(await repo.create("key", new_key_id, terms), tenant_id)
        await record(conn, actor, "budget.create", "budget", created.id, after=created)
        carried += 1
    return carried


def _editor_role(scope: str) -> TenantRole | None:
    # None: platform admins only (rbac.authorize_tenant).
    return TenantRole.ADMIN if scope == "key" else None


class BudgetService:
    """Budget operations; changes are audited and trigger a new config snapshot."""

    def __init__(self, db: Database, publisher: ConfigPublisher) -> None:
        self._db = db
        self._publisher = publisher

    async def create(
        self, actor: Actor, principal: Principal, tenant_id: uuid.UUID, data: BudgetCreate
    ) -> Budget:
        """A budget on the tenant (platform admins) or on one of its keys (tenant admins).

        422 for a key outside the tenant, a bad zone or rolling day count; 409 when the scope
        already has a budget for that period.
        """
        authorize_tenant(principal, tenant_id, _editor_role(data.scope))
        if (data.scope == "key") != (data.key_id is not None):
            raise InvalidInputError(
                "key_id is required for scope 'key' and not allowed for scope 'tenant'",
                details={"param": "key_id"},
            )
        terms = checked_terms(
            BudgetTerms(
                limit_micro_usd=data.limit_micro_usd,
                period=data.period,
                rolling_days=data.rolling_days,
                timezone=data.timezone,
                hard=data.hard,
                thresholds=data.thresholds,
            )
        )
        async with self._db.transaction() as conn:
            await TenantRepository(conn).get(tenant_id)
            scope_id = tenant_id
            if data.key_id is not None:
                try:
                    key = await ApiKeyRepository(conn).get(data.key_id)
                except NotFoundError:
                    key = None
                if key is None or key.tenant_id != tenant_id:
                    raise InvalidInputError(
                        f"key {data.key_id} does not exist in this tenant", details={"param": "key_id"}
                    )
                scope_id = key.id
            created = to_budget(await BudgetRepository(conn).create(data.scope, scope_id, terms), tenant_id)
            await record(conn, actor, "budget.create", "budget", created.id, after=created)
        self._publisher.request("budget.create")
        return created

    async def list(self, tenant_id: uuid.UUID) -> BudgetList:
        """A tenant's budgets and its keys' budgets (404 when the tenant does not exist)."""
        async with self._db.connection() as conn:
            await TenantRepository(conn).get(tenant_id)
            rows = await BudgetRepository(conn).list_for_tenant(tenant_id)
        return BudgetList(items=[to_budget(row, tenant_id) for row in rows])

    async def get(self, principal: Principal, budget_id: uuid.UUID) -> Budget:
        """One budget (members of its tenant)."""
        async with self._db.connection() as conn:
            row = await BudgetRepository(conn).get(budget_id)
        authorize_tenant(principal, row.tenant_id, TenantRole.VIEWER, hidden=budget_not_found(budget_id))
        return to_budget(row, row.tenant_id)

    async def update(
        self, actor: Actor, principal: Principal, budget_id: uuid.UUID, data: BudgetUpdate
    ) -> Budget:
        """Change a budget's limit, period, zone, hard flag or thresholds."""
        async with self._db.transaction() as conn:
            repo = BudgetRepository(conn)
            row = await repo.get(budget_id)
            authorize_tenant(
                principal, row.tenant_id, _editor_role(row.scope), hidden=budget_not_found(budget_id)
            )
            period = row.period if data.period is None else data.period
            rolling_days = data.rolling_days if data.rolling_days is not None else row.rolling_days
            if period != "rolling":
                rolling_days = None
            terms = checked_terms(
                BudgetTerms(
                    limit_micro_usd=row.limit_micro_usd
                    if data.limit_micro_usd is None
                    else data.limit_micro_usd,
                    period=period,
                    rolling_days=rolling_days,
                    timezone=row.timezone if data.timezone is None else data.timezone,
                    hard=row.hard if data.hard is None else data.hard,
                    thresholds=row.thresholds if data.thresholds is None else data.thresholds,
                )
            )
            before = to_budget(row, row.tenant_id)
            after = to_budget(await repo.update(budget_id, terms), row.tenant_id)
            await record(conn, actor, "budget.update", "budget", budget_id, before=before, after=after)
        self._publisher.request("budget.update")
        return after

    async def delete(self, actor: Actor, principal: Principal, budget_id: uuid.UUID) -> None:
        """Delete a budget; the proxy stops enforcing it with the next snapshot."""
        async with self._db.transaction() as conn:
            repo = BudgetRepository(conn)
            row = await repo.get(budget_id)
            authorize_tenant(
                principal, row.tenant_id, _editor_role(row.scope), hidden=budget_not_found(budget_id)
            )
            await repo.delete(budget_id)
            await record(
                conn, actor, "budget.delete", "budget", budget_id, before=to_budget(row, row.tenant_id)
            )
        self._publisher.request("budget.delete")
