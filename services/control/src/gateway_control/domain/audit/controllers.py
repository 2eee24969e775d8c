"""GET /api/v1/audit: the audit trail, filtered and paged (platform admins; read-only)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

from litestar import Controller, get
from litestar.params import Parameter

from gateway_control.db import audit as queries
from gateway_control.domain.audit.schemas import AuditEntry, AuditPage
from gateway_control.errors import InvalidInputError
from gateway_control.security.guards import require_platform_admin
from gateway_control.state import ControlState

_EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
_LATEST = datetime(9999, 1, 1, tzinfo=UTC)
_Text = Annotated[str | None, Parameter(min_length=1, max_length=320)]


def _aware(value: datetime | None, name: str, default: datetime) -> datetime:
    if value is None:
        return default
    if value.tzinfo is None:
        raise InvalidInputError(f"{name} must include a UTC offset", details={"param": name})
    return value


class AuditController(Controller):
    """Search the audit trail."""

    path = "/audit"
    tags = ["audit"]
    guards = [require_platform_admin]

    @get("/", operation_id="listAuditEntries", summary="Search the audit trail")
    async def list_audit_entries(
        self,
        control: ControlState,
        actor_id: uuid.UUID | None = None,
        actor_email: _Text = None,
        action: Annotated[
            str | None,
            Parameter(min_length=1, max_length=100, description="Exact, or a prefix ending in '.'"),
        ] = None,
        target_type: _Text = None,
        target_id: _Text = None,
        since: Annotated[datetime | None, Parameter(description="Inclusive, with UTC offset")] = None,
        until: Annotated[datetime | None, Parameter(description="Exclusive, with UTC offset")] = None,
        before_id: Annotated[
            int | None, Parameter(ge=1, le=2**62, description="Entries older than this id")
        ] = None,
        limit: Annotated[int, Parameter(ge=1, le=500)] = 100,
    ) -> AuditPage:
        """Entries newest first, filtered by actor, action, target and time range."""
        start, end = _aware(since, "since", _EARLIEST), _aware(until, "until", _LATEST)
        async with control.db.connection() as conn:
            rows = await queries.search_audit_log(
                conn,
                since=start,
                until=end,
                actor_id=actor_id,
                actor_email=actor_email.lower() if actor_email else None,
                action=action,
                target_type=target_type,
                target_id=target_id,
                before_id=before_id,
                limit=limit,
            )
        items = [
            AuditEntry(
                id=r.id,
                at=r.at,
                actor_id=r.actor_id,
                actor_email=r.actor_email,
                action=r.action,
                target_type=r.target_type,
                target_id=r.target_id,
                before=r.before,
                after=r.after,
                request_id=r.request_id,
                ip=r.ip,
            )
            for r in rows
        ]
        return AuditPage(items=items, next_before_id=items[-1].id if len(items) == limit else None)
