"""The ConfigSnapshot indexed for the hot path: `RuntimeConfig`.

Built once per snapshot (never per request): models by name and id, each with its route and the
deployments the route names, every deployment bound to its provider's adapter and to the
provider credentials opened with the data-plane key. A provider whose credentials cannot be
opened, or whose type has no adapter, is kept out of routing and logged; the rest of the
snapshot still applies.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from gateway_common.sealing import DataPlaneKeys, SealingError
from gateway_proto.v1.config_pb2 import ConfigSnapshot, Deployment, Model, RateLimits, RoutingStrategy
from gateway_proto.v1.pricing_pb2 import ModelPricing
from gateway_providers import (
    DeploymentTarget,
    ProviderAdapter,
    ProviderConfig,
    UnknownProviderError,
    get_adapter,
)

from gateway_proxy.budget_index import BudgetIndex, index_budgets

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Effective timeouts of one model, in seconds (gateway defaults unless the model overrides)."""

    sync_s: float
    stream_idle_s: float
    total_s: float
    upstream_s: float
    connect_s: float


@dataclass(frozen=True, slots=True)
class ProviderRuntime:
    """A provider account ready to use: its adapter and its config with opened credentials."""

    id: str
    name: str
    type: str
    adapter: ProviderAdapter
    config: ProviderConfig


@dataclass(frozen=True, slots=True)
class DeploymentRuntime:
    """One way to serve a model: provider, upstream model name, weight and priority tier."""

    id: str
    model_id: str
    upstream_model: str
    weight: int
    priority: int
    provider: ProviderRuntime
    target: DeploymentTarget
    # The provider account's own caps on this deployment (0: none) and its price (None: unknown).
    rpm_limit: int = 0
    tpm_limit: int = 0
    cost: ModelPricing | None = None


@dataclass(frozen=True, slots=True)
class RouteRuntime:
    """The deployments one model alias may be served by, and how to choose among them."""

    id: str
    strategy: int  # a gateway.v1.RoutingStrategy value
    deployments: tuple[DeploymentRuntime, ...]
    fallback_models: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ModelRuntime:
    """A catalog entry as the proxy serves it."""

    id: str
    name: str
    owned_by: str
    created_unix: int
    pricing: ModelPricing
    timeouts: Timeouts
    route: RouteRuntime
    servable: bool  # priced, or unpriced use is allowed


@dataclass(frozen=True, slots=True)
class RuntimeConfig:
    """One snapshot, indexed. Immutable: a new snapshot builds a new RuntimeConfig."""

    revision: int
    models_by_name: Mapping[str, ModelRuntime]
    models_by_id: Mapping[str, ModelRuntime]
    default_key_limits: RateLimits
    default_tenant_limits: RateLimits
    unusable_providers: frozenset[str] = field(default_factory=frozenset)
    # Hard budgets by key and tenant (budget_index.py), reserved by the guards.
    budgets: BudgetIndex = field(default_factory=BudgetIndex)

    def model(self, name: str) -> ModelRuntime | None:
        """The model a client calls `name` (its alias), or None."""
        return self.models_by_name.get(name)


def build_runtime_config(snapshot: ConfigSnapshot, keys: DataPlaneKeys, defaults: Timeouts) -> RuntimeConfig:
    """Index `snapshot`, opening each provider's credentials once with `keys`."""
    providers: dict[str, ProviderRuntime] = {}
    unusable: set[str] = set()
    for provider in snapshot.providers:
        try:
            adapter = get_adapter(provider.type)
            credentials = keys.open(provider.credentials, aad=provider.id)
        except (UnknownProviderError, SealingError) as exc:
            unusable.add(provider.id)
            log.error(
                "provider left out of routing: %s",
                exc,
                extra={"provider_id": provider.id, "provider_type": provider.type},
            )
            continue
        providers[provider.id] = ProviderRuntime(
            id=provider.id,
            name=provider.name,
            type=provider.type,
            adapter=adapter,
            config=ProviderConfig(
                provider_type=provider.type,
                base_url=provider.base_url,
                credentials=MappingProxyType(credentials),
                settings=MappingProxyType(dict(provider.settings)),
            ),
        )

    models_by_id = {model.id: model for model in snapshot.models}
    deployments: dict[str, DeploymentRuntime] = {}
    for dep in snapshot.deployments:
        provider_rt = providers.get(dep.provider_id)
        if provider_rt is None:
            continue
        deployments[dep.id] = DeploymentRuntime(
            id=dep.id,
            model_id=dep.model_id,
            upstream_model=dep.upstream_model,
            weight=dep.weight,
            priority=dep.priority,
            provider=provider_rt,
            target=DeploymentTarget(upstream_model=dep.upstream_model, provider=provider_rt.config),
            rpm_limit=dep.rpm_limit,
            tpm_limit=dep.tpm_limit,
            cost=_deployment_cost(dep, models_by_id.get(dep.model_id)),
        )

    routes = {route.model_id: route for route in snapshot.routes}
    by_name: dict[str, ModelRuntime] = {}
    by_id: dict[str, ModelRuntime] = {}
    for model in snapshot.models:
        route = routes.get(model.id)
        if route is not None and route.deployment_ids:
            chosen = tuple(deployments[d] for d in route.deployment_ids if d in deployments)
        else:
            # No explicit route list: every deployment of the model is a candidate.
            chosen = tuple(d for d in deployments.values() if d.model_id == model.id)
        route_rt = RouteRuntime(
            id=route.id if route is not None else "",
            strategy=route.strategy if route is not None else RoutingStrategy.ROUTING_STRATEGY_WEIGHTED,
            deployments=chosen,
            fallback_models=tuple(route.fallback_models) if route is not None else (),
        )
        runtime = ModelRuntime(
            id=model.id,
            name=model.name,
            owned_by=model.owned_by or "open-model-gateway",
            created_unix=model.created_unix,
            pricing=model.pricing,
            timeouts=_model_timeouts(model, defaults),
            route=route_rt,
            servable=model.pricing.priced or snapshot.allow_unpriced_models,
        )
        by_name[model.name] = runtime
        by_id[model.id] = runtime

    return RuntimeConfig(
        revision=snapshot.revision,
        models_by_name=MappingProxyType(by_name),
        models_by_id=MappingProxyType(by_id),
        default_key_limits=snapshot.default_key_limits,
        default_tenant_limits=snapshot.default_tenant_limits,
        unusable_providers=frozenset(unusable),
        budgets=index_budgets(snapshot.budgets),
    )


def _deployment_cost(dep: Deployment, model: Model | None) -> ModelPricing | None:
    """What the provider charges for `dep`: its own cost when set, else its model's pricing."""
    if dep.HasField("cost") and dep.cost.priced:
        return dep.cost
    if model is not None and model.pricing.priced:
        return model.pricing
    return None


def _model_timeouts(model: Model, defaults: Timeouts) -> Timeouts:
    overrides = model.timeouts

    def pick(ms: int, default: float) -> float:
        return ms / 1000 if ms > 0 else default

    return Timeouts(
        sync_s=pick(overrides.sync_ms, defaults.sync_s),
        stream_idle_s=pick(overrides.stream_idle_ms, defaults.stream_idle_s),
        total_s=pick(overrides.total_ms, defaults.total_s),
        upstream_s=pick(overrides.upstream_ms, defaults.upstream_s),
        connect_s=defaults.connect_s,
    )
