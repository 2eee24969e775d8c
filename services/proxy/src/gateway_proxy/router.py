"""The proxy's routing state in one place: `Router`.

It owns what routing learns while the proxy runs — circuit breakers, in-flight counts and
latency averages (all per process), the health service's verdicts (from NATS KV) and the
per-deployment caps (Redis) — and answers the forwarder's two questions: in which order to try
a model's deployments (`plan`), and whether a deployment may be called right now (`admit`).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from gateway_proxy.breaker import CircuitBreakers
from gateway_proxy.deployment_caps import DeploymentCaps
from gateway_proxy.deployment_stats import DeploymentStats
from gateway_proxy.health_watch import HealthWatch
from gateway_proxy.routing import RoutingInputs, plan_candidates
from gateway_proxy.runtime import DeploymentRuntime, RouteRuntime


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How many attempts a request gets and how long it may wait to re-try a deployment."""

    max_attempts: int = 6
    backoff_s: float = 0.05
    max_wait_s: float = 2.0


class Router:
    """Plans and admits upstream attempts; see the module docstring."""

    def __init__(
        self,
        breakers: CircuitBreakers,
        stats: DeploymentStats,
        *,
        health: HealthWatch | None = None,
        caps: DeploymentCaps | None = None,
        rng: random.Random | None = None,
        explore: float = 0.05,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.breakers = breakers
        self.stats = stats
        self.health = health
        self.retry = retry or RetryPolicy()
        self.rng = rng or random.Random()
        self._caps = caps
        self._inputs = RoutingInputs(self.rng, stats, explore)

    def plan(self, route: RouteRuntime) -> list[DeploymentRuntime]:
        """The route's deployments in try order; unhealthy or breaker-open ones last."""
        unhealthy = self.health.unhealthy if self.health is not None else frozenset()
        avoid = {d.id for d in route.deployments if d.id in unhealthy or self.breakers.is_open(d.id)}
        return plan_candidates(route, self._inputs, avoid)

    async def admit(self, deployment: DeploymentRuntime, tokens: int) -> bool:
        """Whether to call `deployment` now: its breaker allows it and its caps have room.

        A True answer may have taken the breaker's half-open trial; the caller reports the
        outcome (`breakers.record_*`) or gives the trial back (`breakers.release`).
        """
        if not self.breakers.acquire(deployment.id):
            return False
        if self._caps is not None and not await self._caps.take(deployment, tokens):
            self.breakers.release(deployment.id)
            return False
        return True

    def force(self, deployment: DeploymentRuntime) -> None:
        """Call `deployment` although `admit` said no: every candidate was refused (last resort)."""
        self.breakers.force(deployment.id)
