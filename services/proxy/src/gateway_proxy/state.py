"""The typed state the lifespan builds and every request reads: `ProxyState`."""

from __future__ import annotations

from dataclasses import dataclass

import redis.asyncio as aioredis
from gateway_common.nats import NatsConnection
from gateway_common.readiness import Readiness
from gateway_common.snapshots import SnapshotFollower
from starlette.requests import HTTPConnection

from gateway_proxy.auth import Authenticator
from gateway_proxy.forwarder import Forwarder
from gateway_proxy.guards import Guards
from gateway_proxy.metrics import ProxyMetrics
from gateway_proxy.router import Router
from gateway_proxy.settings import ProxySettings
from gateway_proxy.snapshot import ConfigHolder
from gateway_proxy.tasks import BackgroundTasks
from gateway_proxy.tokens import TokenEstimator
from gateway_proxy.upstream import Upstream
from gateway_proxy.usage_publisher import UsagePublisher

STATE_KEY = "proxy"


@dataclass(frozen=True, slots=True)
class ProxyState:
    """Everything a request needs, created at startup and closed at shutdown by the lifespan."""

    settings: ProxySettings
    metrics: ProxyMetrics
    config: ConfigHolder
    authenticator: Authenticator
    forwarder: Forwarder
    readiness: Readiness
    http: Upstream
    redis: aioredis.Redis
    nats: NatsConnection
    follower: SnapshotFollower
    publisher: UsagePublisher
    tasks: BackgroundTasks
    guards: Guards
    router: Router
    estimator: TokenEstimator


def proxy_state(connection: HTTPConnection) -> ProxyState:
    """The ProxyState the lifespan put in the request's state."""
    state = connection.scope["state"][STATE_KEY]
    if not isinstance(state, ProxyState):
        raise RuntimeError("the proxy lifespan has not run")
    return state
