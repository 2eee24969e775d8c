"""`CredentialResolver`: the cache in front of the credential exchanges.

One resolver per process, owned by the app's lifespan (it holds the cache). For each request
the caller resolves the deployment's target before building the upstream request:

    target = await resolver.resolve(deployment.target)

Providers without an exchange come back unchanged, without awaiting anything. Otherwise the
issued credentials are cached per provider identity (a hash of its type, URL, credentials and
settings: a rotated key is a new identity) and refreshed `refresh_margin_s` before they expire;
concurrent requests share one refresh. If a refresh fails while the cached credentials are still
valid, those keep being used (and the failure is logged); once expired, the failure is raised:
a `ProviderError` for an answer (kind `authentication` for a refusal) or whatever `send` raised
for a transport failure.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from types import MappingProxyType
from typing import Final

import orjson

from gateway_providers.base import DeploymentTarget, ProviderConfig, ProviderError
from gateway_providers.credentials.aws_sts import AssumeRoleExchange
from gateway_providers.credentials.base import CredentialExchange, IssuedCredentials, Send
from gateway_providers.credentials.google_oauth import ServiceAccountExchange

log = logging.getLogger(__name__)

# Provider type -> its exchange (used only when the exchange `applies` to the provider's config).
EXCHANGES: Final[Mapping[str, CredentialExchange]] = MappingProxyType(
    {"bedrock": AssumeRoleExchange(), "vertex_gemini": ServiceAccountExchange()}
)


def exchange_for(provider: ProviderConfig) -> CredentialExchange | None:
    """The exchange this provider's config asks for, or None (its credentials are used as stored)."""
    exchange = EXCHANGES.get(provider.provider_type)
    return exchange if exchange is not None and exchange.applies(provider) else None


def provider_identity(provider: ProviderConfig) -> str:
    """A digest naming this provider config (never the secrets themselves) for the cache."""
    material = orjson.dumps(
        [provider.provider_type, provider.base_url, dict(provider.credentials), dict(provider.settings)],
        option=orjson.OPT_SORT_KEYS,
    )
    return hashlib.sha256(material).hexdigest()


class CredentialResolver:
    """Resolve targets to short-lived credentials, cached and refreshed before expiry."""

    def __init__(
        self,
        send: Send,
        *,
        transport_errors: tuple[type[Exception], ...] = (OSError, TimeoutError),
        clock: Callable[[], float] = time.time,
    ) -> None:
        """`send` does the HTTP; `transport_errors` are what it raises when the token endpoint
        cannot be reached (e.g. `httpx.TransportError`): like an error answer, they fall back to
        still-valid cached credentials. `clock` (epoch seconds) is for tests."""
        self._send = send
        self._transient: tuple[type[Exception], ...] = (ProviderError, *transport_errors)
        self._clock = clock
        self._issued: dict[str, IssuedCredentials] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def resolve(self, target: DeploymentTarget) -> DeploymentTarget:
        """`target` with its provider's credentials overlaid by fresh short-lived ones, if it needs any."""
        provider = target.provider
        exchange = exchange_for(provider)
        if exchange is None:
            return target
        key = provider_identity(provider)
        issued = self._issued.get(key)
        if issued is None or self._due(issued, exchange):
            issued = await self._refresh(key, exchange, provider)
        credentials = MappingProxyType({**provider.credentials, **issued.values})
        return replace(target, provider=replace(provider, credentials=credentials))

    def invalidate(self, target: DeploymentTarget) -> None:
        """Forget the cached credentials of `target`'s provider (e.g. after the upstream refused them)."""
        self._issued.pop(provider_identity(target.provider), None)

    def _due(self, issued: IssuedCredentials, exchange: CredentialExchange) -> bool:
        return self._clock() >= issued.expires_at - exchange.refresh_margin_s

    async def _refresh(
        self, key: str, exchange: CredentialExchange, provider: ProviderConfig
    ) -> IssuedCredentials:
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            cached = self._issued.get(key)
            if cached is not None and not self._due(cached, exchange):
                return cached  # another request refreshed it while this one waited
            try:
                now = self._clock()
                response = await self._send(exchange.token_request(provider, now))
                issued = exchange.parse_token_response(response, self._clock())
            except self._transient as exc:
                if cached is not None and self._clock() < cached.expires_at:
                    log.warning(
                        "credential refresh failed; using the cached credentials until they expire: %r",
                        exc,
                        extra={"provider_type": provider.provider_type},
                    )
                    return cached
                raise
            self._prune()
            self._issued[key] = issued
            return issued

    def _prune(self) -> None:
        now = self._clock()
        for stale in [key for key, issued in self._issued.items() if issued.expires_at <= now]:
            del self._issued[stale]
            self._locks.pop(stale, None)
