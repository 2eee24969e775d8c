"""Alert channel rows in Postgres, through the sqlc-generated queries."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from gateway_control.database import Connection
from gateway_control.db import alert_channels as queries
from gateway_control.db.tables import AlertChannel, JsonValue
from gateway_control.errors import NotFoundError


@dataclass(frozen=True, slots=True)
class ChannelFields:
    """The changeable part of a channel."""

    name: str
    target: str
    settings: JsonValue
    enabled: bool


def channel_not_found(channel_id: uuid.UUID) -> NotFoundError:
    """The error for an unknown channel, and for a channel the caller may not see."""
    return NotFoundError(f"alert channel {channel_id} does not exist")


class AlertChannelRepository:
    """Alert channel queries on one connection; a missing channel raises NotFoundError."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def create(self, tenant_id: uuid.UUID | None, kind: str, fields: ChannelFields) -> AlertChannel:
        """Insert a channel (a duplicate name in the same tenant raises a unique violation)."""
        row = await queries.create_alert_channel(
            self._conn,
            tenant_id=tenant_id,
            name=fields.name,
            kind=kind,
            target=fields.target,
            settings=fields.settings,
            enabled=fields.enabled,
        )
        if row is None:
            raise RuntimeError("INSERT ... RETURNING returned no row")
        return row

    async def get(self, channel_id: uuid.UUID) -> AlertChannel:
        """The channel with this id."""
        row = await queries.get_alert_channel(self._conn, id=channel_id)
        if row is None:
            raise channel_not_found(channel_id)
        return row

    async def list(self, tenant_id: uuid.UUID | None) -> list[AlertChannel]:
        """A tenant's channels, or the platform-wide ones for None."""
        if tenant_id is None:
            return await queries.list_platform_alert_channels(self._conn)
        return await queries.list_alert_channels_by_tenant(self._conn, tenant_id=tenant_id)

    async def update(self, channel_id: uuid.UUID, fields: ChannelFields) -> AlertChannel:
        """Replace a channel's name, target, settings and enabled flag."""
        row = await queries.update_alert_channel(
            self._conn,
            id=channel_id,
            name=fields.name,
            target=fields.target,
            settings=fields.settings,
            enabled=fields.enabled,
        )
        if row is None:
            raise channel_not_found(channel_id)
        return row

    async def delete(self, channel_id: uuid.UUID) -> AlertChannel:
        """Delete a channel and return it."""
        row = await queries.delete_alert_channel(self._conn, id=channel_id)
        if row is None:
            raise channel_not_found(channel_id)
        return row
