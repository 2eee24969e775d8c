"""From a JetStream message body to a priced, validated usage row.

`usage_row_from_message` is pure: it decodes the `UsageEvent`, checks what the usage table's
constraints would refuse, and prices it (`cost.request_cost_micro_usd`). Anything it refuses is a
`PoisonMessage`: retrying would fail the same way, so the consumer terminates the message.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from gateway_proto.v1.usage_pb2 import UsageEvent
from google.protobuf.message import DecodeError
from google.protobuf.timestamp_pb2 import Timestamp

from gateway_accounting.cost import CostError, request_cost_micro_usd
from gateway_accounting.errors import PoisonMessage

_MAX_REQUEST_ID_LEN = 200
_MAX_LATENCY_MS = 2**31 - 1
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class UsageRow:
    """One row of accounting.usage, priced in integer micro-USD."""

    request_id: str
    tenant_id: uuid.UUID
    key_id: uuid.UUID
    user_id: uuid.UUID | None
    model: str
    deployment_id: uuid.UUID | None
    provider: str
    endpoint: str
    status_code: int
    error_code: str | None
    stream: bool
    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int
    reasoning_tokens: int
    estimated: bool
    cost_micro_usd: int
    pricing_revision: int
    started_at: datetime
    finished_at: datetime
    latency_ms: int
    client_disconnected: bool
    # The proxy's budget reservations for this request, `(budget_id, period_start_unix, hold_id)`,
    # released once the cost is in the spend counters (not stored in Postgres).
    budget_holds: tuple[tuple[str, int, str], ...] = ()

    @property
    def is_error(self) -> bool:
        """Whether the client got an error status (counted in the rollup's error_requests)."""
        return self.status_code >= 400


def _required_uuid(name: str, value: str) -> uuid.UUID:
    if not value:
        raise PoisonMessage(f"{name} is missing")
    try:
        return uuid.UUID(value)
    except ValueError:
        raise PoisonMessage(f"{name} {value!r} is not a UUID") from None


def _optional_uuid(name: str, value: str) -> uuid.UUID | None:
    return _required_uuid(name, value) if value else None


def _timestamp(value: Timestamp) -> datetime:
    # Timestamp.ToDatetime goes through a generic, much slower path; this is the same value
    # (nanoseconds truncated to microseconds, as ToDatetime does).
    try:
        return _EPOCH + timedelta(seconds=value.seconds, microseconds=value.nanos // 1000)
    except OverflowError:
        raise PoisonMessage(f"timestamp {value.seconds}s is out of range") from None


def decode_usage_event(data: bytes) -> UsageEvent:
    """Parse a message body as a `UsageEvent`; a body that is not one is a `PoisonMessage`."""
    event = UsageEvent()
    try:
        event.ParseFromString(data)
    except DecodeError as exc:
        raise PoisonMessage(f"undecodable UsageEvent: {exc}") from None
    return event


def usage_row(event: UsageEvent) -> UsageRow:
    """Validate and price one event; raise `PoisonMessage` naming what is wrong with it."""
    if not 1 <= len(event.request_id) <= _MAX_REQUEST_ID_LEN:
        raise PoisonMessage("request_id is missing or longer than 200 characters")
    tenant_id = _required_uuid("tenant_id", event.tenant_id)
    key_id = _required_uuid("key_id", event.key_id)
    if not event.model:
        raise PoisonMessage("model is missing")
    if not 100 <= event.status_code <= 599:
        raise PoisonMessage(f"status_code {event.status_code} is not an HTTP status")
    if not event.HasField("finished_at"):
        raise PoisonMessage("finished_at is missing")
    finished_at = _timestamp(event.finished_at)
    started_at = _timestamp(event.started_at) if event.HasField("started_at") else finished_at
    if started_at > finished_at:
        raise PoisonMessage("started_at is after finished_at")
    if not 0 <= event.duration_us // 1000 <= _MAX_LATENCY_MS:
        raise PoisonMessage(f"duration_us {event.duration_us} is out of range")
    if event.pricing_revision < 0:
        raise PoisonMessage("pricing_revision is negative")
    try:
        cost = request_cost_micro_usd(event.usage, event.pricing)
    except CostError as exc:
        raise PoisonMessage(f"cannot price the request: {exc}") from None
    usage = event.usage
    return UsageRow(
        request_id=event.request_id,
        tenant_id=tenant_id,
        key_id=key_id,
        user_id=_optional_uuid("user_id", event.user_id),
        model=event.model,
        deployment_id=_optional_uuid("deployment_id", event.deployment_id),
        provider=event.provider,
        endpoint=event.endpoint or "unknown",
        status_code=event.status_code,
        error_code=event.error_code or None,
        stream=event.stream,
        prompt_tokens=usage.prompt_tokens,
        completion_tokens=usage.completion_tokens,
        cached_tokens=min(usage.cached_prompt_tokens, usage.prompt_tokens),
        reasoning_tokens=min(usage.reasoning_tokens, usage.completion_tokens),
        estimated=usage.estimated,
        cost_micro_usd=cost,
        pricing_revision=event.pricing_revision,
        started_at=started_at,
        finished_at=finished_at,
        latency_ms=event.duration_us // 1000,
        client_disconnected=event.client_disconnected,
        budget_holds=tuple((h.budget_id, h.period_start_unix, h.hold_id) for h in event.budget_holds),
    )


def usage_row_from_message(data: bytes) -> UsageRow:
    """Decode, validate and price a message body (see `usage_row`)."""
    return usage_row(decode_usage_event(data))
