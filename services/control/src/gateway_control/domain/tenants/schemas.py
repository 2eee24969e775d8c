"""Tenant payloads."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

import msgspec

from gateway_control.domain._types import Name

TenantStatus = Literal["active", "suspended"]


class TenantCreate(msgspec.Struct, forbid_unknown_fields=True):
    """A new tenant."""

    name: Name


class TenantUpdate(msgspec.Struct, forbid_unknown_fields=True):
    """Fields of a tenant that can change."""

    status: TenantStatus


class Tenant(msgspec.Struct):
    """A tenant as the API shows it."""

    id: uuid.UUID
    name: str
    status: TenantStatus
    is_personal: bool
    created_at: datetime
    updated_at: datetime


class TenantPage(msgspec.Struct):
    """One page of tenants."""

    items: list[Tenant]
    limit: int
    offset: int
    total: int
