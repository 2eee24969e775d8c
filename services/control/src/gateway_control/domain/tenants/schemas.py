"""Tenant payloads."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

import msgspec

from gateway_control.domain._types import ModelName, Name

TenantStatus = Literal["active", "suspended"]


class TenantCreate(msgspec.Struct, forbid_unknown_fields=True):
    """A new tenant."""

    name: Name


class TenantUpdate(msgspec.Struct, forbid_unknown_fields=True):
    """Fields of a tenant that can change (omitted fields stay as they are)."""

    status: TenantStatus | None = None
    # The models the tenant's keys may use; empty means every model.
    allowed_models: Annotated[list[ModelName], msgspec.Meta(max_length=500)] | None = None


class Tenant(msgspec.Struct):
    """A tenant as the API shows it."""

    id: uuid.UUID
    name: str
    status: TenantStatus
    is_personal: bool
    allowed_models: list[str]
    created_at: datetime
    updated_at: datetime


class TenantPage(msgspec.Struct):
    """One page of tenants."""

    items: list[Tenant]
    limit: int
    offset: int
    total: int
