"""SSO sign-in use cases: send the browser to the provider, then finish the sign-in on its return.

`start` remembers the flow (provider, nonce, PKCE verifier) under the state and returns the
authorization URL. `finish` checks the state against the browser's state cookie, takes the flow
(once: a replayed callback finds nothing), redeems the code with the verifier, verifies the ID
token, resolves the local user and opens control's own session: a refresh-token family, exactly
like a password sign-in. Any failure is audited as `auth.sso_failed` with its reason and
starts no session.
"""

from __future__ import annotations

import hmac
import logging
import uuid
from dataclasses import dataclass

from gateway_control.database import Database
from gateway_control.domain.audit.services import Actor, record
from gateway_control.domain.auth.refresh import issue_refresh_token
from gateway_control.domain.sso.provisioning import resolve_user
from gateway_control.oidc.client import OidcClients
from gateway_control.oidc.errors import OidcError
from gateway_control.oidc.flows import FlowStore, PendingFlow
from gateway_control.oidc.pkce import new_flow_secrets

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Callback:
    """What the provider sent the browser back with, and the browser's state cookie."""

    state: str | None
    code: str | None
    error: str | None
    state_cookie: str | None


@dataclass(frozen=True, slots=True)
class SsoSession:
    """A finished SSO sign-in: whose session, and the refresh token that starts it."""

    user_id: uuid.UUID
    refresh_token: str


class SsoService:
    """Start and finish OIDC sign-ins."""

    def __init__(self, db: Database, clients: OidcClients, flows: FlowStore, refresh_ttl_s: int) -> None:
        self._db = db
        self._clients = clients
        self._flows = flows
        self._refresh_ttl_s = refresh_ttl_s

    async def start(self, provider: str) -> tuple[str, str]:
        """The authorization URL to send the browser to, and the state to bind to the browser."""
        client = self._clients.get(provider)
        secrets = new_flow_secrets()
        url = await client.authorization_url(secrets)
        await self._flows.put(
            secrets.state,
            PendingFlow(provider=provider, nonce=secrets.nonce, code_verifier=secrets.code_verifier),
        )
        return url, secrets.state

    async def finish(self, actor: Actor, provider: str, callback: Callback) -> SsoSession:
        """Finish the sign-in; OidcError (audited) when anything does not check out."""
        try:
            return await self._finish(actor, provider, callback)
        except OidcError as exc:
            log.warning(
                "SSO sign-in refused: %s", exc.message, extra={"provider": provider, "reason": exc.reason}
            )
            async with self._db.transaction() as conn:
                await record(
                    conn,
                    actor,
                    "auth.sso_failed",
                    "user",
                    None,
                    after={"provider": provider, "reason": exc.reason},
                )
            raise

    async def _finish(self, actor: Actor, provider: str, callback: Callback) -> SsoSession:
        client = self._clients.get(provider)
        if (
            not callback.state
            or not callback.state_cookie
            or not hmac.compare_digest(callback.state.encode(), callback.state_cookie.encode())
        ):
            raise OidcError("invalid_state", "the state does not match this browser's sign-in")
        flow = await self._flows.take(callback.state)
        if flow is None or flow.provider != provider:
            raise OidcError("invalid_state", "the sign-in is unknown, expired or already finished")
        if callback.error:
            raise OidcError("provider_error", f"{provider} answered {callback.error[:100]!r}")
        if not callback.code:
            raise OidcError("code_rejected", "the callback carries no code")
        tokens = await client.exchange_code(callback.code, flow.code_verifier)
        identity = await client.identity(tokens, flow.nonce)
        async with self._db.transaction() as conn:
            user = await resolve_user(conn, client.provider, identity, actor)
            who = Actor(user_id=user.id, email=user.email, request_id=actor.request_id, ip=actor.ip)
            await record(conn, who, "auth.login", "user", user.id, after={"sso": provider})
            refresh_token = await issue_refresh_token(conn, user.id, self._refresh_ttl_s)
        return SsoSession(user_id=user.id, refresh_token=refresh_token)
