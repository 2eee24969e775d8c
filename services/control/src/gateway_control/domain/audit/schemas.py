"""Audit trail payloads (read-only: the API offers no way to change or delete an entry)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import msgspec


class AuditEntry(msgspec.Struct):
    """One recorded mutation or sign-in, secrets already redacted."""

    id: int
    at: datetime
    actor_id: uuid.UUID | None
    actor_email: str | None
    action: str
    target_type: str
    target_id: str | None
    before: Any
    after: Any
    request_id: str | None
    ip: str | None


class AuditPage(msgspec.Struct):
    """Entries newest first; pass `next_before_id` as `before_id` for the next (older) page."""

    items: list[AuditEntry]
    next_before_id: int | None
