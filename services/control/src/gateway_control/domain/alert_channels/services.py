"""Alert channel use cases: create, list, read, change and delete where budget alerts go.

A tenant's channels hear about its budgets; platform-wide channels (no tenant) hear about every
budget. Tenant admins manage their tenant's channels, platform admins every channel; anyone else
gets 404, as for an unknown id. A test alert is sent by accounting (over gRPC) through the same
sender real alerts use; asking for one is audited with its outcome. The webhook secret is stored
in the channel's settings (where accounting's webhook sender reads it), is write-only in the API,
and is redacted from audit.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from urllib.parse import urlsplit

from gateway_control.clients.accounting import AccountingClient
from gateway_control.database import Database
from gateway_control.db.tables import AlertChannel as AlertChannelRow
from gateway_control.db.tables import JsonValue
from gateway_control.domain.alert_channels.repositories import (
    AlertChannelRepository,
    ChannelFields,
    channel_not_found,
)
from gateway_control.domain.alert_channels.schemas import (
    AlertChannel,
    AlertChannelCreate,
    AlertChannelList,
    AlertChannelTestResult,
    AlertChannelUpdate,
)
from gateway_control.domain.audit.services import Actor, record
from gateway_control.domain.tenants.repositories import TenantRepository
from gateway_control.errors import InvalidInputError
from gateway_control.security.principal import Principal, TenantRole
from gateway_control.security.rbac import authorize_tenant

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _settings(row: AlertChannelRow) -> dict[str, JsonValue]:
    return dict(row.settings) if isinstance(row.settings, Mapping) else {}


def to_alert_channel(row: AlertChannelRow) -> AlertChannel:
    """The API view of a channel row (never the secret)."""
    return AlertChannel(
        id=row.id,
        tenant_id=row.tenant_id,
        name=row.name,
        kind=row.kind,
        target=row.target,
        has_secret=bool(_settings(row).get("secret")),
        enabled=row.enabled,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def check_target(kind: str, target: str, secret: str | None) -> None:
    """422 unless a webhook targets an http(s) URL and an email an address (with no secret)."""
    if kind == "webhook":
        try:
            parts = urlsplit(target)
            valid = parts.scheme in ("http", "https") and bool(parts.hostname)
        except ValueError:  # e.g. an unclosed IPv6 bracket
            valid = False
        if not valid:
            raise InvalidInputError("a webhook target must be an http(s) URL", details={"param": "target"})
    else:
        if not _EMAIL.match(target):
            raise InvalidInputError("an email target must be an email address", details={"param": "target"})
        if secret is not None:
            raise InvalidInputError("only webhooks have a secret", details={"param": "secret"})


def authorize_channel(principal: Principal, tenant_id: uuid.UUID | None, channel_id: uuid.UUID) -> None:
    """Tenant admins for a tenant's channel, platform admins for every channel; 404 otherwise."""
    if tenant_id is None:
        if not principal.is_platform_admin:
            raise channel_not_found(channel_id)
        return
    authorize_tenant(principal, tenant_id, TenantRole.ADMIN, hidden=channel_not_found(channel_id))


class AlertChannelService:
    """Alert channel operations; each mutation is audited (accounting reloads channels itself)."""

    def __init__(self, db: Database, accounting: AccountingClient) -> None:
        self._db = db
        self._accounting = accounting

    async def create(
        self, actor: Actor, tenant_id: uuid.UUID | None, data: AlertChannelCreate
    ) -> AlertChannel:
        """A channel for the tenant, or a platform-wide one for None (409 for a duplicate name)."""
        check_target(data.kind, data.target, data.secret)
        fields = ChannelFields(
            name=data.name,
            target=data.target,
            settings={"secret": data.secret} if data.secret else {},
            enabled=data.enabled,
        )
        async with self._db.transaction() as conn:
            if tenant_id is not None:
                await TenantRepository(conn).get(tenant_id)
            row = await AlertChannelRepository(conn).create(tenant_id, data.kind, fields)
            created = to_alert_channel(row)
            await record(conn, actor, "alert_channel.create", "alert_channel", created.id, after=created)
        return created

    async def list(self, tenant_id: uuid.UUID | None) -> AlertChannelList:
        """A tenant's channels, or the platform-wide ones for None."""
        async with self._db.connection() as conn:
            if tenant_id is not None:
                await TenantRepository(conn).get(tenant_id)
            rows = await AlertChannelRepository(conn).list(tenant_id)
        return AlertChannelList(items=[to_alert_channel(row) for row in rows])

    async def get(self, principal: Principal, channel_id: uuid.UUID) -> AlertChannel:
        """One channel."""
        async with self._db.connection() as conn:
            row = await AlertChannelRepository(conn).get(channel_id)
        authorize_channel(principal, row.tenant_id, channel_id)
        return to_alert_channel(row)

    async def update(
        self, actor: Actor, principal: Principal, channel_id: uuid.UUID, data: AlertChannelUpdate
    ) -> AlertChannel:
        """Change a channel's name, target, secret or enabled flag."""
        async with self._db.transaction() as conn:
            repo = AlertChannelRepository(conn)
            row = await repo.get(channel_id)
            authorize_channel(principal, row.tenant_id, channel_id)
            target = row.target if data.target is None else data.target
            check_target(row.kind, target, data.secret)
            settings = _settings(row)
            if data.secret is not None:
                settings["secret"] = data.secret
            fields = ChannelFields(
                name=row.name if data.name is None else data.name,
                target=target,
                settings=settings,
                enabled=row.enabled if data.enabled is None else data.enabled,
            )
            before = to_alert_channel(row)
            after = to_alert_channel(await repo.update(channel_id, fields))
            await record(
                conn, actor, "alert_channel.update", "alert_channel", channel_id, before=before, after=after
            )
        return after

    async def send_test_alert(
        self, actor: Actor, principal: Principal, channel_id: uuid.UUID
    ) -> AlertChannelTestResult:
        """Have accounting send one test alert through the channel's real sender (503 when down)."""
        async with self._db.connection() as conn:
            row = await AlertChannelRepository(conn).get(channel_id)
        authorize_channel(principal, row.tenant_id, channel_id)
        answer = await self._accounting.send_test_alert(str(channel_id))
        result = AlertChannelTestResult(delivered=answer.delivered, error=answer.error or None)
        async with self._db.transaction() as conn:
            await record(conn, actor, "alert_channel.test", "alert_channel", channel_id, after=result)
        return result

    async def delete(self, actor: Actor, principal: Principal, channel_id: uuid.UUID) -> None:
        """Delete a channel."""
        async with self._db.transaction() as conn:
            repo = AlertChannelRepository(conn)
            row = await repo.get(channel_id)
            authorize_channel(principal, row.tenant_id, channel_id)
            await repo.delete(channel_id)
            await record(
                conn, actor, "alert_channel.delete", "alert_channel", channel_id, before=to_alert_channel(row)
            )
