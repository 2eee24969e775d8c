"""Alert channel payloads: a signed webhook or an email address. The webhook secret is write-only."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

import msgspec

from gateway_control.domain._types import Name

Kind = Literal["webhook", "email"]
Target = Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]
Secret = Annotated[str, msgspec.Meta(min_length=16, max_length=256)]


class AlertChannelCreate(msgspec.Struct, forbid_unknown_fields=True):
    """Where budget alerts go: `target` is an http(s) URL for a webhook, an address for email.

    A webhook's body is signed with HMAC-SHA256 under `secret` (accounting's
    ALERT_WEBHOOK_SECRET when none is set); the secret is never returned.
    """

    name: Name
    kind: Kind
    target: Target
    secret: Secret | None = None
    enabled: bool = True


class AlertChannelUpdate(msgspec.Struct, forbid_unknown_fields=True):
    """Changes to a channel; omitted fields stay as they are (its kind cannot change)."""

    name: Name | None = None
    target: Target | None = None
    secret: Secret | None = None
    enabled: bool | None = None


class AlertChannel(msgspec.Struct):
    """A channel as the API shows it: `has_secret` instead of the secret."""

    id: uuid.UUID
    tenant_id: uuid.UUID | None
    name: str
    kind: str
    target: str
    has_secret: bool
    enabled: bool
    created_at: datetime
    updated_at: datetime


class AlertChannelList(msgspec.Struct):
    """Alert channels by name."""

    items: list[AlertChannel]


class AlertChannelTestResult(msgspec.Struct):
    """How a test alert went: `delivered`, or `error` with the sender's reason (refused address,
    the webhook's HTTP status, the SMTP relay's answer)."""

    delivered: bool
    error: str | None
