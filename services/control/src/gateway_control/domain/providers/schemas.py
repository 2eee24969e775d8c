"""Provider payloads. Credentials are write-only: accepted here, never returned."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import msgspec

from gateway_control.domain._types import Name

ProviderType = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_]*$")]
BaseUrl = Annotated[str, msgspec.Meta(min_length=8, max_length=2000, pattern=r"^https?://\S+$")]
SettingName = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z][A-Za-z0-9_.-]*$")]
SettingValue = Annotated[str, msgspec.Meta(max_length=2000)]
CredentialValue = Annotated[str, msgspec.Meta(min_length=1, max_length=8192)]
Settings = Annotated[dict[SettingName, SettingValue], msgspec.Meta(max_length=50)]
Credentials = Annotated[dict[SettingName, CredentialValue], msgspec.Meta(min_length=1, max_length=20)]


class ProviderCreate(msgspec.Struct, forbid_unknown_fields=True):
    """A new upstream account; `credentials` (e.g. {"api_key": ...}) is stored encrypted."""

    name: Name
    type: ProviderType
    base_url: BaseUrl | None = None
    credentials: Credentials | None = None
    settings: Settings = {}


class ProviderUpdate(msgspec.Struct, forbid_unknown_fields=True):
    """Changes to a provider; omitted fields stay. `credentials` replaces the stored ones (write-only).

    `clear_base_url` returns to the adapter's default endpoint.
    """

    base_url: BaseUrl | None = None
    clear_base_url: bool = False
    settings: Settings | None = None
    credentials: Credentials | None = None
    enabled: bool | None = None


class Provider(msgspec.Struct):
    """A provider as the API shows it: whether it has credentials, never what they are."""

    id: uuid.UUID
    name: str
    type: str
    base_url: str | None
    settings: dict[str, str]
    has_credentials: bool
    enabled: bool
    created_at: datetime
    updated_at: datetime


class ProviderList(msgspec.Struct):
    """Every provider."""

    items: list[Provider]


class ProviderTypeInfo(msgspec.Struct):
    """A provider type the gateway has an adapter for, and what that adapter can serve."""

    type: str
    capabilities: list[str]


class ProviderTypeList(msgspec.Struct):
    """Every registered provider type, by name."""

    items: list[ProviderTypeInfo]
