"""Virtual API key payloads. The secret appears only in `CreatedApiKey`, once."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import msgspec

from gateway_control.domain._types import ModelName, Name

AllowedModels = Annotated[list[ModelName], msgspec.Meta(max_length=500)]
Rpm = Annotated[int, msgspec.Meta(ge=0, le=10_000_000)]
Tpm = Annotated[int, msgspec.Meta(ge=0, le=2**53)]
Parallel = Annotated[int, msgspec.Meta(ge=0, le=100_000)]
GraceSeconds = Annotated[int, msgspec.Meta(ge=0, le=30 * 86400)]


class ApiKeyCreate(msgspec.Struct, forbid_unknown_fields=True):
    """A new key; an empty allow-list means every model the tenant may use.

    Limit overrides (requests/tokens per minute, parallel requests): 0 or null inherits the
    tenant's and the gateway's defaults.
    """

    name: Name
    allowed_models: AllowedModels = []
    expires_at: Annotated[datetime, msgspec.Meta(tz=True)] | None = None
    rpm_limit: Rpm | None = None
    tpm_limit: Tpm | None = None
    max_parallel: Parallel | None = None


class ApiKeyUpdate(msgspec.Struct, forbid_unknown_fields=True):
    """Changes to a key; omitted fields stay as they are, a limit of 0 removes the override."""

    name: Name | None = None
    allowed_models: AllowedModels | None = None
    rpm_limit: Rpm | None = None
    tpm_limit: Tpm | None = None
    max_parallel: Parallel | None = None
    disabled: bool | None = None


class ApiKeyRotate(msgspec.Struct, forbid_unknown_fields=True):
    """How long the old key keeps working after rotation (seconds; 0 ends it within a second)."""

    grace_period_s: GraceSeconds = 86400


class ApiKey(msgspec.Struct, kw_only=True):
    """A key as listed: recognisable by prefix and last four characters, never the secret."""

    id: uuid.UUID
    tenant_id: uuid.UUID
    user_id: uuid.UUID | None
    name: str
    prefix: str
    last4: str
    allowed_models: list[str]
    rpm_limit: int | None
    tpm_limit: int | None
    max_parallel: int | None
    expires_at: datetime | None
    revoked_at: datetime | None
    disabled: bool
    rotated_from: uuid.UUID | None
    created_at: datetime


class CreatedApiKey(ApiKey, kw_only=True):
    """A key right after creation, with its secret (shown only here)."""

    key: str


class ApiKeyPage(msgspec.Struct):
    """One page of keys."""

    items: list[ApiKey]
    limit: int
    offset: int
    total: int
