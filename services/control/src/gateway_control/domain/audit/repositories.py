"""Writes to control.audit_log (append-only: the table refuses UPDATE, DELETE and TRUNCATE)."""

from __future__ import annotations

import uuid

from gateway_control.database import Connection
from gateway_control.db import audit as queries
from gateway_control.db.tables import JsonValue


class AuditRepository:
    """Appends entries on the caller's connection, so they commit or roll back with the change."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def append(
        self,
        *,
        actor_id: uuid.UUID | None,
        actor_email: str | None,
        action: str,
        target_type: str,
        target_id: str | None,
        before: JsonValue | None,
        after: JsonValue | None,
        request_id: str | None,
        ip: str | None,
    ) -> None:
        """Insert one entry."""
        await queries.insert_audit_entry(
            self._conn,
            actor_id=actor_id,
            actor_email=actor_email,
            action=action,
            target_type=target_type,
            target_id=target_id,
            before=before,
            after=after,
            request_id=request_id,
            ip=ip,
        )
