"""Choosing deployments for a request: a registry of strategies, keyed by RoutingStrategy.

`plan_candidates` returns a route's deployments as an ordered list: the first is the one to
try, the rest the failover order. Priority tiers come first (a lower `priority` value is tried
earlier); a strategy only orders deployments inside a tier:

- weighted (default): weighted random without replacement — each pick proportional to weight;
- least in-flight: fewest requests outstanding from this process first (ties: weighted);
- lowest latency: smallest EWMA of time to first token first; a deployment never measured goes
  first so it gets measured, and with probability `explore` the order is weighted random;
- lowest cost: cheapest first by the deployment's own price (its `cost`, else the model's),
  for a typical 3:1 prompt:completion token mix (ties: weighted).

Then deployments to avoid — marked UNHEALTHY by the health service, or with an open circuit
breaker — are moved behind all others, keeping their order: they are tried only when
everything else failed, so a wrong verdict can cost latency but never availability.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from itertools import groupby
from types import MappingProxyType
from typing import Final

from gateway_proto.v1.config_pb2 import RoutingStrategy

from gateway_proxy.deployment_stats import DeploymentStats
from gateway_proxy.runtime import DeploymentRuntime, RouteRuntime

# Prompt and completion token shares of the price a lowest-cost route compares.
_COST_MIX_INPUT: Final = 3
_COST_MIX_OUTPUT: Final = 1


@dataclass(frozen=True, slots=True)
class RoutingInputs:
    """What a strategy may look at besides the tier: randomness and this process's live figures."""

    rng: random.Random
    stats: DeploymentStats
    explore: float = 0.05  # lowest-latency: share of requests routed weighted-random instead


# Orders one priority tier.
TierStrategy = Callable[[Sequence[DeploymentRuntime], RoutingInputs], list[DeploymentRuntime]]


def weighted_order(tier: Sequence[DeploymentRuntime], inputs: RoutingInputs) -> list[DeploymentRuntime]:
    """Weighted random order without replacement: each pick is proportional to `weight`.

    A weight of 0 drains a deployment: it is ordered after every weighted one, and picked
    first only when the whole tier is drained.
    """
    rng = inputs.rng
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


def _ranked(
    tier: Sequence[DeploymentRuntime], inputs: RoutingInputs, key: Callable[[DeploymentRuntime], float]
) -> list[DeploymentRuntime]:
    """Order by `key` ascending; equal keys keep a weighted random order among themselves."""
    shuffled = weighted_order(tier, inputs)
    return sorted(shuffled, key=key)  # sorted() is stable: ties stay weighted-random


def least_in_flight_order(
    tier: Sequence[DeploymentRuntime], inputs: RoutingInputs
) -> list[DeploymentRuntime]:
    """Fewest outstanding requests from this process first."""
    return _ranked(tier, inputs, lambda d: inputs.stats.in_flight(d.id))


def lowest_latency_order(tier: Sequence[DeploymentRuntime], inputs: RoutingInputs) -> list[DeploymentRuntime]:
    """Smallest time-to-first-token EWMA first; unmeasured first; sometimes explore at random."""
    if inputs.explore > 0 and inputs.rng.random() < inputs.explore:
        return weighted_order(tier, inputs)

    def latency(dep: DeploymentRuntime) -> float:
        value = inputs.stats.latency(dep.id)
        return -1.0 if value is None else value

    return _ranked(tier, inputs, latency)


def lowest_cost_order(tier: Sequence[DeploymentRuntime], inputs: RoutingInputs) -> list[DeploymentRuntime]:
    """Cheapest first, by the deployment's price for a 3:1 prompt:completion token mix."""
    return _ranked(tier, inputs, deployment_unit_cost)


def deployment_unit_cost(dep: DeploymentRuntime) -> float:
    """What a typical mix of a million tokens costs on `dep` (micro-USD; unknown prices sort last)."""
    price = dep.cost
    if price is None or not price.priced:
        return float("inf")
    return float(
        _COST_MIX_INPUT * price.input_micro_usd_per_mtok + _COST_MIX_OUTPUT * price.output_micro_usd_per_mtok
    ) / (_COST_MIX_INPUT + _COST_MIX_OUTPUT)


STRATEGIES: Final[Mapping[int, TierStrategy]] = MappingProxyType(
    {
        RoutingStrategy.ROUTING_STRATEGY_UNSPECIFIED: weighted_order,
        RoutingStrategy.ROUTING_STRATEGY_WEIGHTED: weighted_order,
        RoutingStrategy.ROUTING_STRATEGY_LEAST_IN_FLIGHT: least_in_flight_order,
        RoutingStrategy.ROUTING_STRATEGY_LOWEST_LATENCY: lowest_latency_order,
        RoutingStrategy.ROUTING_STRATEGY_LOWEST_COST: lowest_cost_order,
    }
)


def plan_candidates(
    route: RouteRuntime, inputs: RoutingInputs, avoid: Collection[str] = frozenset()
) -> list[DeploymentRuntime]:
    """The route's deployments in the order to try them (empty when it has none).

    `avoid` holds deployment ids to try only last (unhealthy, breaker open). A strategy this
    proxy does not know falls back to weighted order, so a newer control plane that names a
    strategy this proxy lacks still gets served.
    """
    strategy = STRATEGIES.get(route.strategy, weighted_order)
    by_priority = sorted(route.deployments, key=lambda d: d.priority)
    ordered: list[DeploymentRuntime] = []
    for _, tier in groupby(by_priority, key=lambda d: d.priority):
        ordered.extend(strategy(list(tier), inputs))
    if avoid:
        ordered = [d for d in ordered if d.id not in avoid] + [d for d in ordered if d.id in avoid]
    return ordered
