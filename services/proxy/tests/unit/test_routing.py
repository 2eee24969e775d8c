"""Deployment choice: priority tiers first, then the route's strategy inside a tier."""

from __future__ import annotations

import random
from collections import Counter

import pytest
from gateway_proto.v1.config_pb2 import RoutingStrategy
from gateway_proto.v1.pricing_pb2 import ModelPricing
from gateway_providers import DeploymentTarget, ProviderConfig, get_adapter
from gateway_proxy.deployment_stats import DeploymentStats
from gateway_proxy.routing import RoutingInputs, plan_candidates, weighted_order
from gateway_proxy.runtime import DeploymentRuntime, ProviderRuntime, RouteRuntime

CONFIG = ProviderConfig(provider_type="openai", base_url="http://x")
PROVIDER = ProviderRuntime("p", "p", "openai", get_adapter("openai"), CONFIG)
# Chi-square critical values at p = 0.001 by degrees of freedom: a correct sampler fails 1 in 1000.
CHI2_CRITICAL_0_001 = {1: 10.83, 2: 13.82, 3: 16.27, 4: 18.47}


def dep(dep_id: str, weight: int = 1, priority: int = 0, price: int | None = None) -> DeploymentRuntime:
    cost = (
        ModelPricing(input_micro_usd_per_mtok=price, output_micro_usd_per_mtok=price * 4, priced=True)
        if price is not None
        else None
    )
    return DeploymentRuntime(
        dep_id, "m", dep_id, weight, priority, PROVIDER, DeploymentTarget(dep_id, CONFIG), cost=cost
    )


def route(
    *deps: DeploymentRuntime, strategy: int = RoutingStrategy.ROUTING_STRATEGY_WEIGHTED
) -> RouteRuntime:
    return RouteRuntime("r", strategy, deps, ())


def inputs(seed: int = 1, stats: DeploymentStats | None = None, explore: float = 0.0) -> RoutingInputs:
    return RoutingInputs(random.Random(seed), stats or DeploymentStats(), explore)


def ids(deployments: list[DeploymentRuntime]) -> list[str]:
    return [d.id for d in deployments]


def test_lower_priority_value_is_tried_first() -> None:
    ordered = plan_candidates(route(dep("backup", priority=2), dep("main", priority=1)), inputs())
    assert ids(ordered) == ["main", "backup"]


@pytest.mark.parametrize("weights", [(5, 3, 2), (1, 1), (70, 20, 9, 1)])
def test_weighted_first_picks_match_the_weights_by_chi_square(weights: tuple[int, ...]) -> None:
    deps = [dep(f"d{i}", weight=w) for i, w in enumerate(weights)]
    picks = 10_000
    routing = inputs(seed=sum(weights))
    firsts = Counter(weighted_order(deps, routing)[0].id for _ in range(picks))
    total = sum(weights)
    chi2 = sum((firsts[d.id] - picks * d.weight / total) ** 2 / (picks * d.weight / total) for d in deps)
    assert chi2 < CHI2_CRITICAL_0_001[len(weights) - 1], (firsts, chi2)


def test_chi_square_check_catches_a_sampler_that_ignores_weights() -> None:
    # The same statistic over uniform picks of 5:3:2 weights is far beyond the critical value.
    rng = random.Random(3)
    firsts = Counter(rng.choice(["a", "b", "c"]) for _ in range(10_000))
    expected = {"a": 5000, "b": 3000, "c": 2000}
    chi2 = sum((firsts[k] - e) ** 2 / e for k, e in expected.items())
    assert chi2 > CHI2_CRITICAL_0_001[2]


def test_every_deployment_is_returned_once_as_failover_order() -> None:
    deps = [dep(f"d{i}", weight=i + 1) for i in range(5)]
    ordered = weighted_order(deps, inputs(3))
    assert sorted(ids(ordered)) == [d.id for d in deps]


def test_zero_weight_is_drained_unless_the_whole_tier_is() -> None:
    routing = inputs(5)
    for _ in range(50):
        assert weighted_order([dep("drained", weight=0), dep("live", weight=1)], routing)[0].id == "live"
    assert weighted_order([dep("a", weight=0)], routing)[0].id == "a"


def test_unknown_strategy_falls_back_to_weighted() -> None:
    assert ids(plan_candidates(route(dep("only"), strategy=99), inputs())) == ["only"]


def test_a_route_without_deployments_has_no_candidates() -> None:
    assert plan_candidates(route(), inputs()) == []


def test_avoided_deployments_go_last_in_their_order() -> None:
    deps = (dep("a", priority=0), dep("b", priority=1), dep("c", priority=2))
    ordered = plan_candidates(route(*deps), inputs(), avoid={"a"})
    assert ids(ordered) == ["b", "c", "a"]


def test_least_in_flight_prefers_the_least_busy_deployment() -> None:
    stats = DeploymentStats()
    for _ in range(3):
        stats.begin("busy")
    stats.begin("some")
    strategy = RoutingStrategy.ROUTING_STRATEGY_LEAST_IN_FLIGHT
    ordered = plan_candidates(
        route(dep("busy"), dep("some"), dep("idle"), strategy=strategy), inputs(stats=stats)
    )
    assert ids(ordered) == ["idle", "some", "busy"]
    stats.end("busy")
    stats.end("busy")
    stats.end("busy")
    assert stats.in_flight("busy") == 0


def test_lowest_latency_prefers_the_fastest_and_measures_the_unmeasured_first() -> None:
    stats = DeploymentStats(ewma_alpha=0.5)
    stats.observe_latency("slow", 0.8)
    stats.observe_latency("fast", 0.1)
    strategy = RoutingStrategy.ROUTING_STRATEGY_LOWEST_LATENCY
    deps = (dep("slow"), dep("fast"), dep("new"))
    assert ids(plan_candidates(route(*deps, strategy=strategy), inputs(stats=stats))) == [
        "new",
        "fast",
        "slow",
    ]
    stats.observe_latency("new", 0.5)
    # The fast one degrades: the EWMA moves it behind `new` after a few slow samples.
    for _ in range(3):
        stats.observe_latency("fast", 1.0)
    assert ids(plan_candidates(route(*deps, strategy=strategy), inputs(stats=stats))) == [
        "new",
        "slow",
        "fast",
    ]


def test_lowest_latency_explores_at_the_configured_rate() -> None:
    stats = DeploymentStats()
    stats.observe_latency("slow", 0.9)
    stats.observe_latency("fast", 0.1)
    strategy = RoutingStrategy.ROUTING_STRATEGY_LOWEST_LATENCY
    routing = inputs(seed=11, stats=stats, explore=0.2)
    firsts = Counter(
        plan_candidates(route(dep("slow"), dep("fast"), strategy=strategy), routing)[0].id
        for _ in range(5000)
    )
    # 20 % explore at 1:1 weights: about 10 % of first picks go to the slow one.
    assert 0.07 < firsts["slow"] / 5000 < 0.13


def test_lowest_cost_orders_by_the_deployment_price_and_unknown_prices_last() -> None:
    strategy = RoutingStrategy.ROUTING_STRATEGY_LOWEST_COST
    deps = (dep("pricey", price=900), dep("unknown"), dep("cheap", price=100), dep("mid", price=400))
    assert ids(plan_candidates(route(*deps, strategy=strategy), inputs())) == [
        "cheap",
        "mid",
        "pricey",
        "unknown",
    ]
