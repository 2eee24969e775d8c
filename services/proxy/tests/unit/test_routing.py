"""Deployment choice: priority tiers first, weighted random inside a tier."""

from __future__ import annotations

import random
from collections import Counter

from gateway_proto.v1.config_pb2 import RoutingStrategy
from gateway_providers import DeploymentTarget, ProviderConfig, get_adapter
from gateway_proxy.routing import candidate_deployments, weighted_order
from gateway_proxy.runtime import DeploymentRuntime, ProviderRuntime, RouteRuntime

CONFIG = ProviderConfig(provider_type="openai", base_url="http://x")
PROVIDER = ProviderRuntime("p", "p", "openai", get_adapter("openai"), CONFIG)


def dep(dep_id: str, weight: int = 1, priority: int = 0) -> DeploymentRuntime:
    return DeploymentRuntime(
        dep_id, "m", dep_id, weight, priority, PROVIDER, DeploymentTarget(dep_id, CONFIG)
    )


def route(
    *deps: DeploymentRuntime, strategy: int = RoutingStrategy.ROUTING_STRATEGY_WEIGHTED
) -> RouteRuntime:
    return RouteRuntime("r", strategy, deps, ())


def test_lower_priority_value_is_tried_first() -> None:
    ordered = candidate_deployments(
        route(dep("backup", priority=2), dep("main", priority=1)), random.Random(1)
    )
    assert [d.id for d in ordered] == ["main", "backup"]


def test_weights_decide_the_first_pick_proportionally() -> None:
    rng = random.Random(7)
    deps = [dep("heavy", weight=3), dep("light", weight=1)]
    firsts = Counter(weighted_order(deps, rng)[0].id for _ in range(4000))
    assert 0.70 < firsts["heavy"] / 4000 < 0.80


def test_every_deployment_is_returned_once_as_failover_order() -> None:
    deps = [dep(f"d{i}", weight=i + 1) for i in range(5)]
    ordered = weighted_order(deps, random.Random(3))
    assert sorted(d.id for d in ordered) == [d.id for d in deps]


def test_zero_weight_is_drained_unless_the_whole_tier_is() -> None:
    rng = random.Random(5)
    for _ in range(50):
        assert weighted_order([dep("drained", weight=0), dep("live", weight=1)], rng)[0].id == "live"
    assert weighted_order([dep("a", weight=0)], rng)[0].id == "a"


def test_unknown_strategy_falls_back_to_weighted() -> None:
    ordered = candidate_deployments(route(dep("only"), strategy=99), random.Random(1))
    assert [d.id for d in ordered] == ["only"]


def test_empty_route_gives_no_candidates() -> None:
    assert candidate_deployments(route(), random.Random(1)) == []
