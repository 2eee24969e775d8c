"""The typed state the lifespan builds and every request reads (never module globals)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from gateway_common.nats import NatsConnection
from gateway_common.readiness import Readiness
from litestar.datastructures import State
from redis.asyncio import Redis

from gateway_control.clients.accounting import AccountingClient
from gateway_control.clients.health import HealthClient
from gateway_control.database import Database
from gateway_control.oidc.client import OidcClients
from gateway_control.publishing.key_cache import KeyRecordPublisher
from gateway_control.publishing.publisher import ConfigPublisher
from gateway_control.security.envelope import EnvelopeCipher
from gateway_control.security.login_limits import LoginRateLimiter
from gateway_control.security.passwords import PasswordHashing
from gateway_control.security.tokens import AccessTokens
from gateway_control.settings import ControlSettings

STATE_KEY = "control"


@dataclass
class ControlState:
    """Everything a request handler may use, owned by the app lifespan."""

    settings: ControlSettings
    db: Database
    redis: Redis
    nats: NatsConnection
    accounting: AccountingClient
    health: HealthClient
    passwords: PasswordHashing
    login_limits: LoginRateLimiter
    tokens: AccessTokens
    envelope: EnvelopeCipher
    publisher: ConfigPublisher
    key_records: KeyRecordPublisher
    # The configured OpenID Connect identity providers (SSO).
    oidc: OidcClients
    readiness: Readiness
    # Set once the schema is migrated and the bootstrap admin exists.
    schema_ready: asyncio.Event = field(default_factory=asyncio.Event)


def control_state(state: State) -> ControlState:
    """The ControlState stored on the app (raises when the lifespan has not run)."""
    value = state.get(STATE_KEY)
    if not isinstance(value, ControlState):
        raise RuntimeError("control state is missing: the app lifespan has not started")
    return value
