"""Recording mutations: who did what to which resource, before and after, from where."""

from __future__ import annotations

import ipaddress
import uuid
from dataclasses import dataclass
from typing import Any

import msgspec

from gateway_control.database import Connection
from gateway_control.domain.audit.redaction import redact
from gateway_control.domain.audit.repositories import AuditRepository


@dataclass(frozen=True, slots=True)
class Actor:
    """The caller of a mutation, as the audit trail records it."""

    user_id: uuid.UUID | None
    email: str | None
    request_id: str | None
    ip: str | None

    @staticmethod
    def system(reason: str) -> Actor:
        """The service itself (bootstrap, reconciliation), named by `reason` in the email column."""
        return Actor(user_id=None, email=f"system:{reason}", request_id=None, ip=None)


def _image(value: Any) -> Any:
    if value is None:
        return None
    # msgspec renders structs, dataclasses, UUIDs and datetimes to plain JSON values.
    return redact(msgspec.to_builtins(value))


def _valid_ip(ip: str | None) -> str | None:
    if ip is None:
        return None
    try:
        return str(ipaddress.ip_address(ip))
    except ValueError:
        return None


async def record(
    conn: Connection,
    actor: Actor,
    action: str,
    target_type: str,
    target_id: object | None,
    *,
    before: Any = None,
    after: Any = None,
) -> None:
    """Append an audit entry on `conn` (inside the mutation's transaction); images are redacted."""
    await AuditRepository(conn).append(
        actor_id=actor.user_id,
        actor_email=actor.email,
        action=action,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id),
        before=_image(before),
        after=_image(after),
        request_id=actor.request_id,
        ip=_valid_ip(actor.ip),
    )
