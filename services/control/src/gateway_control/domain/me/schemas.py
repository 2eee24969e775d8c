"""Payloads of the self-service `/user` API."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

import msgspec

from gateway_control.domain.keys.schemas import ApiKeyCreate
from gateway_control.domain.usage.schemas import UsageSummary
from gateway_control.domain.users.schemas import DisplayName, Password

TenantRoleName = Literal["owner", "admin", "member", "viewer"]


class ProfileUpdate(msgspec.Struct, forbid_unknown_fields=True):
    """Changes to my own profile; omitted fields stay as they are."""

    display_name: DisplayName | None = None


class PasswordChange(msgspec.Struct, forbid_unknown_fields=True):
    """A new password for a local account, proven by the current one."""

    current_password: Annotated[str, msgspec.Meta(min_length=1, max_length=1024)]
    new_password: Password


class MyTenant(msgspec.Struct):
    """A tenant I belong to and my role in it."""

    id: uuid.UUID
    name: str
    status: Literal["active", "suspended"]
    is_personal: bool
    role: TenantRoleName


class MyTenantList(msgspec.Struct):
    """Every tenant I belong to, by name."""

    items: list[MyTenant]


class MyApiKeyCreate(ApiKeyCreate, forbid_unknown_fields=True):
    """A key of my own: in my personal tenant, or in `tenant_id` where I am at least a member."""

    tenant_id: uuid.UUID | None = None


class KeyUsage(msgspec.Struct):
    """One of my keys and its totals."""

    key_id: uuid.UUID
    tenant_id: uuid.UUID
    name: str
    usage: UsageSummary


class MyUsage(msgspec.Struct):
    """Usage of the keys I own (newest 500), per key and in total."""

    total: UsageSummary
    keys: list[KeyUsage]
