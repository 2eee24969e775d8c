"""What the sign-in page learns about SSO: the configured identity providers."""

from __future__ import annotations

import msgspec


class SsoProvider(msgspec.Struct):
    """An identity provider users may sign in with; the browser navigates to `start_url`."""

    name: str
    display_name: str
    start_url: str


class SsoProviderList(msgspec.Struct):
    """Every configured identity provider (empty when SSO is not set up)."""

    items: list[SsoProvider]
