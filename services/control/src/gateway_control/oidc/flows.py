"""Pending sign-ins in Redis: written when the browser is sent to the provider, taken once.

The key is derived from the state, so the state is the only handle on the flow. GETDEL makes
taking it atomic: a callback replayed (or raced) finds nothing, and a flow not finished within
the TTL expires by itself.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import orjson
from redis.asyncio import Redis
from redis.exceptions import RedisError

from gateway_control.oidc.errors import OidcError

_PREFIX = "gw:sso:flow:"


@dataclass(frozen=True, slots=True)
class PendingFlow:
    """What the callback needs to finish a sign-in the start endpoint began."""

    provider: str
    nonce: str
    code_verifier: str


def _key(state: str) -> str:
    # Only a digest of the state is stored: reading Redis does not let anyone complete a flow.
    return _PREFIX + hashlib.sha256(state.encode()).hexdigest()


class FlowStore:
    """Pending flows with a time to live."""

    def __init__(self, redis: Redis, ttl_s: int) -> None:
        self._redis = redis
        self._ttl_s = ttl_s

    async def put(self, state: str, flow: PendingFlow) -> None:
        """Remember a flow until its callback (or the TTL)."""
        value = orjson.dumps(
            {"provider": flow.provider, "nonce": flow.nonce, "code_verifier": flow.code_verifier}
        )
        try:
            await self._redis.set(_key(state), value, ex=self._ttl_s)
        except (RedisError, OSError) as exc:
            raise OidcError("service_unavailable", f"cannot store the sign-in in Redis: {exc}") from exc

    async def take(self, state: str) -> PendingFlow | None:
        """The flow of `state`, removed in the same step; None when unknown, expired or taken."""
        try:
            raw = await self._redis.getdel(_key(state))
        except (RedisError, OSError) as exc:
            raise OidcError("service_unavailable", f"cannot read the sign-in from Redis: {exc}") from exc
        if raw is None:
            return None
        data = orjson.loads(raw)
        return PendingFlow(
            provider=str(data["provider"]), nonce=str(data["nonce"]), code_verifier=str(data["code_verifier"])
        )
