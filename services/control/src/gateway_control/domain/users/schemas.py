"""User payloads. Password hashes never leave the service; `has_password` says whether one is set."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import msgspec

Email = Annotated[str, msgspec.Meta(min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")]
DisplayName = Annotated[str, msgspec.Meta(max_length=200, pattern=r"^(\S(.*\S)?)?$")]
Password = Annotated[str, msgspec.Meta(min_length=12, max_length=1024)]


class UserCreate(msgspec.Struct, forbid_unknown_fields=True):
    """A new account; without a password the user can only sign in through SSO."""

    email: Email
    display_name: DisplayName = ""
    password: Password | None = None
    platform_admin: bool = False


class UserUpdate(msgspec.Struct, forbid_unknown_fields=True):
    """Changes to an account; omitted fields stay as they are."""

    display_name: DisplayName | None = None
    disabled: bool | None = None
    platform_admin: bool | None = None
    password: Password | None = None


class User(msgspec.Struct, kw_only=True):
    """An account as the API shows it."""

    id: uuid.UUID
    email: str
    display_name: str
    platform_admin: bool
    disabled: bool
    has_password: bool
    sso: bool
    created_at: datetime
    updated_at: datetime


class UserPage(msgspec.Struct):
    """One page of users by email."""

    items: list[User]
    limit: int
    offset: int
    total: int
