"""Choosing deployments for a request: a registry of strategies, keyed by RoutingStrategy.

Every strategy returns the route's deployments as an ordered candidate list: the first is the
one to try, the rest are the failover order. Priority tiers come first (a lower `priority`
value is tried earlier); a strategy only orders deployments inside a tier. Health, latency
and cost aware strategies (issue 8) register here under their RoutingStrategy value.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from itertools import groupby
from types import MappingProxyType
from typing import Final

from gateway_proto.v1.config_pb2 import RoutingStrategy

from gateway_proxy.runtime import DeploymentRuntime, RouteRuntime

# Orders one priority tier; gets its own random source so tests can seed it.
TierStrategy = Callable[[Sequence[DeploymentRuntime], random.Random], list[DeploymentRuntime]]


def weighted_order(tier: Sequence[DeploymentRuntime], rng: random.Random) -> list[DeploymentRuntime]:
    """Weighted random order without replacement: each pick is proportional to `weight`.

    A weight of 0 drains a deployment: it is ordered after every weighted one, and picked
    first only when the whole tier is drained.
    """
    weighted = [d for d in tier if d.weight > 0]
    drained = [d for d in tier if d.weight <= 0]
    ordered: list[DeploymentRuntime] = []
    while weighted:
        total = sum(d.weight for d in weighted)
        point = rng.uniform(0, total)
        for index, dep in enumerate(weighted):
            point -= dep.weight
            if point <= 0 or index == len(weighted) - 1:
                ordered.append(weighted.pop(index))
                break
    rng.shuffle(drained)
    return ordered + drained


STRATEGIES: Final[Mapping[int, TierStrategy]] = MappingProxyType(
    {
        RoutingStrategy.ROUTING_STRATEGY_UNSPECIFIED: weighted_order,
        RoutingStrategy.ROUTING_STRATEGY_WEIGHTED: weighted_order,
    }
)


def candidate_deployments(route: RouteRuntime, rng: random.Random) -> list[DeploymentRuntime]:
    """The route's deployments in the order to try them (empty when it has none).

    A strategy not registered yet falls back to weighted order, so a newer control plane
    that names a strategy this proxy lacks still gets served.
    """
    strategy = STRATEGIES.get(route.strategy, weighted_order)
    by_priority = sorted(route.deployments, key=lambda d: d.priority)
    ordered: list[DeploymentRuntime] = []
    for _, tier in groupby(by_priority, key=lambda d: d.priority):
        ordered.extend(strategy(list(tier), rng))
    return ordered
