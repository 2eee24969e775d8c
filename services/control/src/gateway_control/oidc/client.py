"""One identity provider seen from control: authorization URL, code exchange, verified identity.

`OidcClients` holds one `OidcClient` per configured provider and the HTTP client they share;
the app lifespan owns it. The discovery document is fetched on first use and kept (a failed
fetch is retried on the next sign-in).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import httpx

from gateway_control.oidc.discovery import JwksCache, ProviderMetadata, fetch_metadata, get_json
from gateway_control.oidc.errors import OidcError
from gateway_control.oidc.id_token import (
    Expected,
    IdentityClaims,
    unverified_kid,
    validate_id_token,
    with_userinfo,
)
from gateway_control.oidc.pkce import FlowSecrets
from gateway_control.settings import OidcProviderSettings

# How each client authentication method puts the client's credentials on the token request.
ClientAuth = Callable[[OidcProviderSettings, dict[str, str]], httpx.Auth | None]


def _basic(provider: OidcProviderSettings, _form: dict[str, str]) -> httpx.Auth:
    # RFC 6749 section 2.3.1: form-urlencode id and secret before Basic encoding.
    secret = provider.client_secret.get_secret_value()
    return httpx.BasicAuth(quote(provider.client_id, safe=""), quote(secret, safe=""))


def _post(provider: OidcProviderSettings, form: dict[str, str]) -> None:
    form["client_id"] = provider.client_id
    form["client_secret"] = provider.client_secret.get_secret_value()


CLIENT_AUTH: Mapping[str, ClientAuth] = {"client_secret_basic": _basic, "client_secret_post": _post}


@dataclass(frozen=True, slots=True)
class Tokens:
    """What the token endpoint returned that control uses."""

    id_token: str
    access_token: str


class OidcClient:
    """The relying-party side of one configured provider."""

    def __init__(
        self, provider: OidcProviderSettings, http: httpx.AsyncClient, redirect_uri: str, leeway_s: int
    ) -> None:
        self.provider = provider
        self.redirect_uri = redirect_uri
        self._http = http
        self._leeway_s = leeway_s
        self._metadata: ProviderMetadata | None = None
        self._metadata_lock = asyncio.Lock()
        self._jwks = JwksCache(http)

    async def metadata(self) -> ProviderMetadata:
        """The provider's checked discovery document (fetched once)."""
        async with self._metadata_lock:
            if self._metadata is None:
                self._metadata = await fetch_metadata(self._http, self.provider.issuer)
            return self._metadata

    async def authorization_url(self, flow: FlowSecrets) -> str:
        """Where to send the browser: a code request with state, nonce and an S256 challenge."""
        metadata = await self.metadata()
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self.provider.client_id,
                "redirect_uri": self.redirect_uri,
                "scope": " ".join(self.provider.scopes),
                "state": flow.state,
                "nonce": flow.nonce,
                "code_challenge": flow.code_challenge,
                "code_challenge_method": "S256",
            }
        )
        separator = "&" if "?" in metadata.authorization_endpoint else "?"
        return f"{metadata.authorization_endpoint}{separator}{query}"

    async def exchange_code(self, code: str, code_verifier: str) -> Tokens:
        """Redeem the code at the token endpoint; the ID token (not yet verified) and access token."""
        metadata = await self.metadata()
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.redirect_uri,
            "code_verifier": code_verifier,
        }
        auth = CLIENT_AUTH[self.provider.token_endpoint_auth_method](self.provider, form)
        try:
            response = await self._http.post(
                metadata.token_endpoint, data=form, auth=auth or httpx.USE_CLIENT_DEFAULT
            )
        except httpx.HTTPError as exc:
            raise OidcError("provider_unavailable", f"token endpoint: {exc}") from exc
        body = _json_object(response)
        if response.status_code >= 500:
            raise OidcError("provider_unavailable", f"token endpoint answered {response.status_code}")
        if response.status_code != 200:
            error = body.get("error", "error")
            raise OidcError(
                "code_rejected",
                f"token endpoint refused the code: {error} {body.get('error_description', '')}",
            )
        id_token = body.get("id_token")
        if not isinstance(id_token, str):
            raise OidcError("id_token_invalid", "the token response has no id_token")
        access_token = body.get("access_token")
        return Tokens(id_token=id_token, access_token=access_token if isinstance(access_token, str) else "")

    async def identity(self, tokens: Tokens, nonce: str) -> IdentityClaims:
        """The verified ID token's identity, completed from UserInfo when it carries no email."""
        identity = await self.verify(tokens.id_token, nonce)
        metadata = await self.metadata()
        if identity.email is not None or not metadata.userinfo_endpoint or not tokens.access_token:
            return identity
        userinfo = await get_json(
            self._http,
            metadata.userinfo_endpoint,
            "UserInfo",
            headers={"Authorization": f"Bearer {tokens.access_token}"},
        )
        return with_userinfo(identity, userinfo)

    async def verify(self, id_token: str, nonce: str) -> IdentityClaims:
        """Validate the ID token against the provider's JWKS (see id_token.py)."""
        metadata = await self.metadata()
        jwks = await self._jwks.keys(metadata.jwks_uri, unverified_kid(id_token))
        expected = Expected(
            issuer=self.provider.issuer,
            client_id=self.provider.client_id,
            nonce=nonce,
            algorithms=self.provider.algorithms,
            leeway_s=self._leeway_s,
        )
        return validate_id_token(id_token, jwks, expected)


def _json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


class OidcClients:
    """Every configured provider by name, and the HTTP client they share (closed at shutdown)."""

    def __init__(
        self, providers: list[OidcProviderSettings], public_url: str, timeout_s: float, leeway_s: int
    ) -> None:
        self._http = httpx.AsyncClient(timeout=timeout_s, trust_env=False, follow_redirects=False)
        base = public_url.rstrip("/")
        self._clients = {
            p.name: OidcClient(p, self._http, f"{base}/api/v1/auth/sso/{p.name}/callback", leeway_s)
            for p in providers
        }

    def get(self, name: str) -> OidcClient:
        """The provider called `name`; OidcError unknown_provider otherwise."""
        client = self._clients.get(name)
        if client is None:
            raise OidcError("unknown_provider", f"no identity provider is called {name!r}")
        return client

    def providers(self) -> list[OidcProviderSettings]:
        """The configured providers, in configuration order."""
        return [client.provider for client in self._clients.values()]

    async def aclose(self) -> None:
        """Close the shared HTTP client."""
        await self._http.aclose()
