"""Virtual API key payloads. The secret appears only in `CreatedApiKey`, once."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import msgspec

from gateway_control.domain._types import ModelName, Name


class ApiKeyCreate(msgspec.Struct, forbid_unknown_fields=True):
    """A new key; an empty allow-list means every model the tenant may use."""

    name: Name
    allowed_models: Annotated[list[ModelName], msgspec.Meta(max_length=500)] = []
    expires_at: Annotated[datetime, msgspec.Meta(tz=True)] | None = None


class ApiKey(msgspec.Struct, kw_only=True):
    """A key as listed: recognisable by prefix and last four characters, never the secret."""

    id: uuid.UUID
    tenant_id: uuid.UUID
    name: str
    prefix: str
    last4: str
    allowed_models: list[str]
    expires_at: datetime | None
    revoked_at: datetime | None
    disabled: bool
    created_at: datetime


class CreatedApiKey(ApiKey, kw_only=True):
    """A key right after creation, with its secret (shown only here)."""

    key: str


class ApiKeyPage(msgspec.Struct):
    """One page of a tenant's keys."""

    items: list[ApiKey]
    limit: int
    offset: int
    total: int
