"""Tenant payloads."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

import msgspec

from gateway_control.domain._types import ModelName, Name
from gateway_control.domain.keys.schemas import Parallel, Rpm, Tpm

TenantStatus = Literal["active", "suspended"]


class TenantCreate(msgspec.Struct, forbid_unknown_fields=True):
    """A new tenant."""

    name: Name


class TenantUpdate(msgspec.Struct, forbid_unknown_fields=True):
    """Fields of a tenant that can change (omitted fields stay as they are).

    Rate-limit overrides (requests/tokens per minute, parallel requests across all the tenant's
    keys): 0 removes the override, so the platform's rate-limit default applies.
    """

    status: TenantStatus | None = None
    # The models the tenant's keys may use; empty means every model.
    allowed_models: Annotated[list[ModelName], msgspec.Meta(max_length=500)] | None = None
    rpm_limit: Rpm | None = None
    tpm_limit: Tpm | None = None
    max_parallel: Parallel | None = None

    @property
    def changes_limits(self) -> bool:
        """Whether the update touches a rate-limit override."""
        return any(v is not None for v in (self.rpm_limit, self.tpm_limit, self.max_parallel))


class Tenant(msgspec.Struct):
    """A tenant as the API shows it."""

    id: uuid.UUID
    name: str
    status: TenantStatus
    is_personal: bool
    allowed_models: list[str]
    # Rate-limit overrides; null inherits the platform's defaults.
    rpm_limit: int | None
    tpm_limit: int | None
    max_parallel: int | None
    created_at: datetime
    updated_at: datetime


class TenantPage(msgspec.Struct):
    """One page of tenants."""

    items: list[Tenant]
    limit: int
    offset: int
    total: int
