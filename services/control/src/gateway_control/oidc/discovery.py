"""The provider's discovery document (OpenID Connect Discovery 1.0) and its JWKS.

The document is fetched from `{issuer}/.well-known/openid-configuration` and must name exactly
the configured issuer (section 4.3), so a document served elsewhere cannot redirect trust. The
JWKS is cached; a token signed with a key id the cache does not know triggers one refetch (the
provider rotated its keys), at most every `min_refetch_s`, so unknown kids cannot be used to
make control hammer the provider.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import httpx

from gateway_control.oidc.errors import OidcError


@dataclass(frozen=True, slots=True)
class ProviderMetadata:
    """The endpoints and capabilities control uses from a discovery document."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    code_challenge_methods: tuple[str, ...]
    # Empty when the provider has none (its ID tokens must then carry the email).
    userinfo_endpoint: str = ""


async def get_json(
    http: httpx.AsyncClient, url: str, what: str, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    """GET a JSON object; OidcError provider_unavailable when unreachable, not 2xx, or not an object."""
    try:
        response = await http.get(url, headers={"Accept": "application/json", **(headers or {})})
        response.raise_for_status()
        body = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise OidcError("provider_unavailable", f"{what} at {url}: {exc}") from exc
    if not isinstance(body, dict):
        raise OidcError("provider_unavailable", f"{what} at {url} is not a JSON object")
    return body


async def fetch_metadata(http: httpx.AsyncClient, issuer: str) -> ProviderMetadata:
    """Read and check the discovery document of `issuer`."""
    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    doc = await get_json(http, url, "discovery document")
    if doc.get("issuer") != issuer:
        raise OidcError(
            "provider_unavailable", f"discovery document names issuer {doc.get('issuer')!r}, not {issuer!r}"
        )
    try:
        metadata = ProviderMetadata(
            issuer=issuer,
            authorization_endpoint=str(doc["authorization_endpoint"]),
            token_endpoint=str(doc["token_endpoint"]),
            jwks_uri=str(doc["jwks_uri"]),
            code_challenge_methods=tuple(str(m) for m in doc.get("code_challenge_methods_supported", [])),
            userinfo_endpoint=str(doc.get("userinfo_endpoint") or ""),
        )
    except KeyError as exc:
        raise OidcError("provider_unavailable", f"discovery document lacks {exc.args[0]}") from exc
    if metadata.code_challenge_methods and "S256" not in metadata.code_challenge_methods:
        raise OidcError("provider_unavailable", "the provider does not support PKCE with S256")
    return metadata


class JwksCache:
    """The provider's public keys, refetched when a token names an unknown key id."""

    def __init__(self, http: httpx.AsyncClient, min_refetch_s: float = 30.0) -> None:
        self._http = http
        self._min_refetch_s = min_refetch_s
        self._keys: list[dict[str, Any]] = []
        self._fetched_at: float | None = None
        self._lock = asyncio.Lock()

    async def keys(self, jwks_uri: str, kid: str | None) -> list[dict[str, Any]]:
        """The key set, refreshed first when it is empty or lacks `kid` (rate limited)."""
        async with self._lock:
            known = any(key.get("kid") == kid for key in self._keys) if kid else bool(self._keys)
            stale = self._fetched_at is None or time.monotonic() - self._fetched_at >= self._min_refetch_s
            if not known and stale:
                body = await get_json(self._http, jwks_uri, "JWKS")
                keys = body.get("keys")
                if not isinstance(keys, list):
                    raise OidcError("provider_unavailable", f"JWKS at {jwks_uri} has no keys list")
                self._keys = [key for key in keys if isinstance(key, dict)]
                self._fetched_at = time.monotonic()
            return list(self._keys)
