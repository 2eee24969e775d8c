"""Membership payloads: a user's role in a tenant."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

import msgspec

from gateway_control.domain.users.schemas import Email

MemberRole = Literal["owner", "admin", "member", "viewer"]


class MemberAdd(msgspec.Struct, forbid_unknown_fields=True):
    """Add an existing user (by email) to a tenant with a role."""

    email: Email
    role: MemberRole


class MemberUpdate(msgspec.Struct, forbid_unknown_fields=True):
    """A member's new role."""

    role: MemberRole


class Member(msgspec.Struct):
    """A member of a tenant."""

    user_id: uuid.UUID
    email: str
    display_name: str
    disabled: bool
    role: MemberRole
    created_at: datetime


class MemberList(msgspec.Struct):
    """Every member of a tenant, by email."""

    items: list[Member]
