"""Credential exchanges: a provider's long-lived secret traded for a short-lived one.

Some providers are not called with the credential an admin stores: an AWS role is assumed
with STS (`aws_sts.py`), a Google service-account key is traded for an OAuth2 access token
(`google_oauth.py`). An exchange builds the token request and parses its answer (no I/O,
like the adapters); `CredentialResolver` (`resolver.py`) sends it through the caller's
`Send`, caches what was issued and refreshes it before it expires.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from gateway_providers.base import ProviderConfig, UpstreamRequest


@dataclass(frozen=True, slots=True)
class TokenResponse:
    """What the token endpoint answered (the caller's HTTP client fills this in)."""

    status: int
    headers: Mapping[str, str]
    body: bytes


# Sends a token request and returns its answer; transport errors propagate to the caller.
Send = Callable[[UpstreamRequest], Awaitable[TokenResponse]]


@dataclass(frozen=True, slots=True)
class IssuedCredentials:
    """Short-lived credentials, merged over the provider's own, valid until `expires_at` (epoch s)."""

    values: Mapping[str, str] = field(repr=False)
    expires_at: float


class CredentialExchange(Protocol):
    """Trades a provider's stored credentials for short-lived ones (request building and parsing)."""

    @property
    def refresh_margin_s(self) -> float:
        """Refresh this long before `expires_at`, so no request goes out with a dying credential."""
        ...

    def applies(self, provider: ProviderConfig) -> bool:
        """Whether this provider's config asks for the exchange (e.g. it names a role)."""
        ...

    def token_request(self, provider: ProviderConfig, now: float) -> UpstreamRequest:
        """The signed request for fresh credentials; `ProviderConfigError` if the config is unusable."""
        ...

    def parse_token_response(self, response: TokenResponse, now: float) -> IssuedCredentials:
        """The issued credentials; raises `ProviderError` (kind `authentication` for a refusal)."""
        ...
