"""Authenticating a request's virtual key and deciding what it may do.

The key is read from `Authorization: Bearer`, `api-key` (Azure SDK style) or `x-api-key`
(Anthropic SDK style), in that order. A malformed key (wrong prefix, length or checksum) is
refused before any I/O; a well-formed one is looked up by its HMAC digest only. Refusals:
401 `invalid_api_key` for a missing, unknown, revoked, disabled or expired key, and 403
`tenant_suspended` for a key whose tenant is suspended.

Model visibility: a key sees a model when the model is in the key's `allowed_models` (empty =
all) and in the tenant's `tenant_models` (empty = all). Entries may name the model's alias or
its id. A model outside that set is answered with 404 `model_not_found`, like OpenAI does.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from gateway_common.apikeys import is_well_formed, key_digest
from gateway_common.logging import key_id_var, tenant_id_var
from gateway_proto.v1.keys_pb2 import KeyRecord, TenantStatus
from gateway_providers import Endpoint

from gateway_proxy.errors import AuthenticationFailed, PermissionDenied, ServiceUnavailable
from gateway_proxy.keys import KeyResolver, KeyStoreUnavailable
from gateway_proxy.runtime import ModelRuntime

# The public path of each endpoint, accepted in allowed_endpoints next to the Endpoint value.
ENDPOINT_PATHS: Mapping[Endpoint, str] = {
    Endpoint.CHAT_COMPLETIONS: "/v1/chat/completions",
    Endpoint.COMPLETIONS: "/v1/completions",
    Endpoint.EMBEDDINGS: "/v1/embeddings",
    Endpoint.IMAGES_GENERATIONS: "/v1/images/generations",
    Endpoint.AUDIO_SPEECH: "/v1/audio/speech",
    Endpoint.AUDIO_TRANSCRIPTIONS: "/v1/audio/transcriptions",
    Endpoint.MODERATIONS: "/v1/moderations",
    Endpoint.MODELS: "/v1/models",
}

_MISSING_KEY = (
    "You didn't provide an API key. You need to provide your API key in an Authorization header "
    "using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."
)
_INVALID_KEY = "Incorrect API key provided."


def extract_api_key(headers: Mapping[str, str]) -> str | None:
    """The client's key from `Authorization: Bearer`, `api-key` or `x-api-key`, else None.

    `headers` must be case-insensitive (Starlette's Headers are). An Authorization header
    with another scheme (e.g. Basic) is ignored, so the other two headers still count.
    """
    authorization = headers.get("authorization")
    if authorization:
        scheme, _, value = authorization.strip().partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
    for name in ("api-key", "x-api-key"):
        other = headers.get(name)
        if other and other.strip():
            return other.strip()
    return None


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: an authenticated, usable key and its scopes."""

    key_id: str
    tenant_id: str
    user_id: str
    record: KeyRecord
    allowed_models: frozenset[str]
    tenant_models: frozenset[str]
    allowed_endpoints: frozenset[str]

    @classmethod
    def from_record(cls, record: KeyRecord) -> Principal:
        """Scopes of a key record (no checks; see `check_usable`)."""
        return cls(
            key_id=record.key_id,
            tenant_id=record.tenant_id,
            user_id=record.user_id,
            record=record,
            allowed_models=frozenset(record.allowed_models),
            tenant_models=frozenset(record.tenant_models),
            allowed_endpoints=frozenset(record.allowed_endpoints),
        )

    def may_use(self, model: ModelRuntime) -> bool:
        """Whether the key and its tenant are entitled to `model` (empty lists mean all)."""
        return _entitled(self.allowed_models, model) and _entitled(self.tenant_models, model)

    def may_call(self, endpoint: Endpoint) -> bool:
        """Whether the key may call `endpoint` (empty allowed_endpoints means every endpoint)."""
        if not self.allowed_endpoints:
            return True
        return endpoint.value in self.allowed_endpoints or ENDPOINT_PATHS[endpoint] in self.allowed_endpoints


def _entitled(names: frozenset[str], model: ModelRuntime) -> bool:
    return not names or model.name in names or model.id in names


def check_usable(record: KeyRecord, now_unix: float) -> None:
    """Refuse a revoked, disabled or expired key (401) or a suspended tenant's key (403)."""
    if record.revoked:
        raise AuthenticationFailed("This API key has been revoked.")
    if record.disabled:
        raise AuthenticationFailed("This API key is disabled.")
    expires = record.expires_at
    if (expires.seconds or expires.nanos) and expires.seconds + expires.nanos / 1e9 <= now_unix:
        raise AuthenticationFailed("This API key has expired.")
    if record.tenant_status == TenantStatus.TENANT_STATUS_SUSPENDED:
        raise PermissionDenied(
            "The organization this API key belongs to is suspended.", code="tenant_suspended"
        )


OutcomeCounter = Callable[[str], None]
# Principals memoised per key digest: more than the key cache holds is never needed at once.
_PRINCIPALS_LIMIT = 10_000


def _ignore(outcome: str) -> None:
    return None


class Authenticator:
    """Turns request headers into a Principal, or raises the OpenAI-shaped refusal.

    `count` is told each lookup's outcome (ok, missing, malformed, unknown, refused,
    store_unavailable) for the metrics.
    """

    def __init__(self, resolver: KeyResolver, pepper: bytes, count: OutcomeCounter = _ignore) -> None:
        self.resolver = resolver
        self._pepper = pepper
        self._count = count
        # digest -> the Principal of the record last resolved for it. A refreshed record is a
        # new object (records are replaced, never changed), so it gets a new Principal.
        self._principals: dict[str, Principal] = {}

    async def authenticate(self, headers: Mapping[str, str]) -> Principal:
        """Authenticate the request and set the tenant/key ids in the logging context."""
        key = extract_api_key(headers)
        if key is None:
            self._count("missing")
            raise AuthenticationFailed(_MISSING_KEY)
        if not is_well_formed(key):
            self._count("malformed")
            raise AuthenticationFailed(_INVALID_KEY)
        digest = key_digest(self._pepper, key)
        try:
            record = await self.resolver.resolve(digest)
        except KeyStoreUnavailable as exc:
            self._count("store_unavailable")
            raise ServiceUnavailable(
                "The gateway cannot verify API keys right now; retry shortly.", code="key_store_unavailable"
            ) from exc
        if record is None:
            self._count("unknown")
            raise AuthenticationFailed(_INVALID_KEY)
        try:
            check_usable(record, time.time())
        except (AuthenticationFailed, PermissionDenied):
            self._count("refused")
            raise
        self._count("ok")
        principal = self._principal(digest, record)
        tenant_id_var.set(principal.tenant_id)
        key_id_var.set(principal.key_id)
        return principal

    def _principal(self, digest: str, record: KeyRecord) -> Principal:
        """The record's Principal, built once per record object (its scopes as frozensets)."""
        principal = self._principals.get(digest)
        if principal is not None and principal.record is record:
            return principal
        if len(self._principals) >= _PRINCIPALS_LIMIT:
            self._principals.clear()
        principal = self._principals[digest] = Principal.from_record(record)
        return principal
