"""Budgets and alert channels, read from the control service's tables (read-only).

Control owns `control.budgets` and `control.alert_channels`; accounting only reads them, with
the hand-written SQL below, because control does not publish budgets over NATS yet. This is a
deliberate, read-only coupling kept to this one module: when control publishes budgets, only
this module changes. Nothing here writes to the `control` schema.

When the control schema is not in accounting's database (the services deployed on separate
databases) `ControlSchemaMissing` is raised, and budgets are simply not enforced or reported.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field

import asyncpg

from gateway_accounting.db.connection import Executor, Record


class ControlSchemaMissing(RuntimeError):
    """The control tables are not reachable from accounting's database."""


@dataclass(frozen=True)
class Budget:
    """A spending limit on a tenant or a key (control.budgets), with the tenant it belongs to."""

    id: uuid.UUID
    scope: str
    scope_id: uuid.UUID
    # The tenant whose alert channels hear about it (the key's tenant for a key budget); None
    # when the key no longer exists.
    tenant_id: uuid.UUID | None
    limit_micro_usd: int
    period: str
    rolling_days: int | None
    timezone: str
    hard: bool
    thresholds: tuple[int, ...]


@dataclass(frozen=True)
class AlertChannel:
    """Where alerts go (control.alert_channels); tenant_id None is a platform-wide channel."""

    id: uuid.UUID
    tenant_id: uuid.UUID | None
    name: str
    kind: str
    target: str
    settings: dict[str, object] = field(default_factory=dict)


_BUDGETS = """
SELECT b.id, b.scope, b.scope_id,
       CASE WHEN b.scope = 'tenant' THEN b.scope_id ELSE k.tenant_id END AS tenant_id,
       b.limit_micro_usd, b.period, b.rolling_days, b.timezone, b.hard, b.thresholds
FROM control.budgets AS b
LEFT JOIN control.api_keys AS k ON b.scope = 'key' AND k.id = b.scope_id
ORDER BY b.id
"""

_ALERT_CHANNELS = """
SELECT id, tenant_id, name, kind, target, settings::text
FROM control.alert_channels
WHERE enabled
ORDER BY id
"""

_ALERT_CHANNEL = """
SELECT id, tenant_id, name, kind, target, settings::text
FROM control.alert_channels
WHERE id = $1
"""


async def load_budgets(conn: Executor) -> list[Budget]:
    """Every budget control defines; raises ControlSchemaMissing without the control tables."""
    try:
        records = await conn.fetch(_BUDGETS)
    except (asyncpg.UndefinedTableError, asyncpg.InvalidSchemaNameError) as exc:
        raise ControlSchemaMissing(str(exc)) from exc
    budgets = []
    for record in records:
        budget_id, scope, scope_id, tenant_id, limit, period, rolling_days, timezone, hard, thresholds = (
            record
        )
        budgets.append(
            Budget(
                id=budget_id,
                scope=scope,
                scope_id=scope_id,
                tenant_id=tenant_id,
                limit_micro_usd=limit,
                period=period,
                rolling_days=rolling_days,
                timezone=timezone,
                hard=hard,
                thresholds=tuple(sorted(set(thresholds))),
            )
        )
    return budgets


async def load_alert_channels(conn: Executor) -> list[AlertChannel]:
    """Every enabled alert channel; raises ControlSchemaMissing without the control tables."""
    try:
        records = await conn.fetch(_ALERT_CHANNELS)
    except (asyncpg.UndefinedTableError, asyncpg.InvalidSchemaNameError) as exc:
        raise ControlSchemaMissing(str(exc)) from exc
    return [_alert_channel(record) for record in records]


async def load_alert_channel(conn: Executor, channel_id: uuid.UUID) -> AlertChannel | None:
    """One alert channel, enabled or paused (a test alert may check a paused one); None if unknown."""
    try:
        record = await conn.fetchrow(_ALERT_CHANNEL, channel_id)
    except (asyncpg.UndefinedTableError, asyncpg.InvalidSchemaNameError) as exc:
        raise ControlSchemaMissing(str(exc)) from exc
    return None if record is None else _alert_channel(record)


def _alert_channel(record: Record) -> AlertChannel:
    channel_id, tenant_id, name, kind, target, settings_text = record
    settings = json.loads(settings_text)
    return AlertChannel(
        id=channel_id,
        tenant_id=tenant_id,
        name=name,
        kind=kind,
        target=target,
        settings=settings if isinstance(settings, dict) else {},
    )
