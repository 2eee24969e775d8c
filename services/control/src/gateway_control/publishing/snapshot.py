"""Building the ConfigSnapshot from catalogue rows (pure: no I/O, so it is unit-tested alone).

What the data plane gets: enabled models with pricing and timeouts, enabled deployments whose
provider is enabled and usable (weights, priority tiers, the provider account's RPM/TPM caps and
their cost), routes with their strategy, deployment ids (priority order) and fallback models,
providers with credentials re-sealed under the data-plane key (aad = provider id), and every
budget (the proxy reserves against the hard ones), and the platform's rate-limit defaults for keys
and tenants. A
provider whose stored credentials cannot be opened is left out with its deployments, and an
error is logged: one bad row must not stop every other change from reaching the data plane.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

import orjson
from gateway_common.names import SNAPSHOT_SCHEMA_VERSION
from gateway_common.sealing import DataPlaneKeys
from gateway_proto.v1 import budget_pb2, config_pb2
from gateway_proto.v1.pricing_pb2 import ModelPricing
from google.protobuf.timestamp_pb2 import Timestamp

from gateway_control.db.routes import ListRoutesRow
from gateway_control.db.tables import Budget, Deployment, JsonValue, Model, Provider
from gateway_control.publishing.rate_limit_defaults import LimitDefaults, to_proto
from gateway_control.security.credentials import open_credentials
from gateway_control.security.envelope import EnvelopeCipher, EnvelopeError

log = logging.getLogger(__name__)

# Database strategy names -> the data plane's enum. 'priority' and 'round_robin' are expressed
# by the proxy's priority tiers and equal weights, so they travel as WEIGHTED.
STRATEGIES: dict[str, config_pb2.RoutingStrategy.ValueType] = {
    "weighted": config_pb2.ROUTING_STRATEGY_WEIGHTED,
    "priority": config_pb2.ROUTING_STRATEGY_WEIGHTED,
    "round_robin": config_pb2.ROUTING_STRATEGY_WEIGHTED,
    "least_busy": config_pb2.ROUTING_STRATEGY_LEAST_IN_FLIGHT,
    "lowest_latency": config_pb2.ROUTING_STRATEGY_LOWEST_LATENCY,
    "lowest_cost": config_pb2.ROUTING_STRATEGY_LOWEST_COST,
}


@dataclass(frozen=True, slots=True)
class CatalogRows:
    """Everything a snapshot is built from, read in one repeatable-read transaction."""

    revision: int
    models: list[Model]
    deployments: list[Deployment]
    routes: list[ListRoutesRow]
    providers: list[Provider]
    budgets: list[Budget] = field(default_factory=list)
    # The platform's rate-limit defaults (rate_limit_defaults.py): scope -> field -> value.
    rate_limit_defaults: LimitDefaults = field(default_factory=dict)


def model_pricing(model: Model) -> ModelPricing:
    """The data plane's price list: unset cached-input / reasoning prices charge as input / output.

    A model counts as priced when any of its prices is non-zero; an all-zero model is served
    only when the operator allows unpriced models.
    """
    cached = model.cached_input_price_micro_usd_per_mtok
    reasoning = model.reasoning_price_micro_usd_per_mtok
    prices = (model.input_price_micro_usd_per_mtok, model.output_price_micro_usd_per_mtok, cached, reasoning)
    return ModelPricing(
        input_micro_usd_per_mtok=model.input_price_micro_usd_per_mtok,
        output_micro_usd_per_mtok=model.output_price_micro_usd_per_mtok,
        cached_input_micro_usd_per_mtok=model.input_price_micro_usd_per_mtok if cached is None else cached,
        reasoning_micro_usd_per_mtok=model.output_price_micro_usd_per_mtok
        if reasoning is None
        else reasoning,
        priced=any(price for price in prices),
    )


def string_map(settings: JsonValue) -> dict[str, str]:
    """A JSON object as proto map<string, string>: strings as they are, other values as JSON."""
    if not isinstance(settings, dict):
        return {}
    return {
        key: value if isinstance(value, str) else orjson.dumps(value).decode()
        for key, value in settings.items()
    }


def _model(model: Model) -> config_pb2.Model:
    return config_pb2.Model(
        id=str(model.id),
        name=model.name,
        owned_by=model.owned_by,
        capabilities=model.capabilities,
        context_window=model.context_window or 0,
        pricing=model_pricing(model),
        timeouts=config_pb2.Timeouts(
            sync_ms=model.sync_timeout_ms or 0,
            stream_idle_ms=model.stream_idle_timeout_ms or 0,
            total_ms=model.total_timeout_ms or 0,
            upstream_ms=model.upstream_timeout_ms or 0,
        ),
        created_unix=int(model.created_at.timestamp()),
    )


def _provider(provider: Provider, envelope: EnvelopeCipher, dataplane: DataPlaneKeys) -> config_pb2.Provider:
    proto = config_pb2.Provider(
        id=str(provider.id),
        name=provider.name,
        type=provider.type,
        base_url=provider.base_url or "",
        settings=string_map(provider.settings),
    )
    credentials = open_credentials(envelope, provider)
    if credentials is not None:
        proto.credentials.CopyFrom(dataplane.seal(credentials, aad=str(provider.id)))
    return proto


def deployment_cost(deployment: Deployment) -> ModelPricing | None:
    """What the deployment costs the operator, for the lowest-cost strategy.

    None (the field stays unset, priced = false) when no cost is configured: the data plane then
    ranks the deployment by its model's pricing. A configured cost is priced even when it is zero
    (a free upstream), with an unset cached-input price charged as input and reasoning as output.
    """
    cost_in = deployment.cost_input_micro_usd_per_mtok
    cost_out = deployment.cost_output_micro_usd_per_mtok
    if cost_in is None or cost_out is None:
        return None
    cached = deployment.cost_cached_input_micro_usd_per_mtok
    return ModelPricing(
        input_micro_usd_per_mtok=cost_in,
        output_micro_usd_per_mtok=cost_out,
        cached_input_micro_usd_per_mtok=cost_in if cached is None else cached,
        reasoning_micro_usd_per_mtok=cost_out,
        priced=True,
    )


def _deployment(deployment: Deployment) -> config_pb2.Deployment:
    return config_pb2.Deployment(
        id=str(deployment.id),
        model_id=str(deployment.model_id),
        provider_id=str(deployment.provider_id),
        upstream_model=deployment.upstream_model,
        weight=deployment.weight,
        priority=deployment.priority,
        rpm_limit=deployment.rpm_limit or 0,
        tpm_limit=deployment.tpm_limit or 0,
        settings=string_map(deployment.settings),
        cost=deployment_cost(deployment),
    )


_BUDGET_SCOPES = {"tenant": budget_pb2.BUDGET_SCOPE_TENANT, "key": budget_pb2.BUDGET_SCOPE_KEY}


def _budget(budget: Budget) -> budget_pb2.BudgetLimit:
    return budget_pb2.BudgetLimit(
        id=str(budget.id),
        scope=_BUDGET_SCOPES.get(budget.scope, budget_pb2.BUDGET_SCOPE_UNSPECIFIED),
        scope_id=str(budget.scope_id),
        limit_micro_usd=budget.limit_micro_usd,
        period=budget.period,
        rolling_days=budget.rolling_days or 0,
        timezone=budget.timezone,
        hard=budget.hard,
    )


def build_snapshot(
    rows: CatalogRows,
    *,
    envelope: EnvelopeCipher,
    dataplane: DataPlaneKeys,
    allow_unpriced_models: bool,
    now: datetime,
) -> config_pb2.ConfigSnapshot:
    """The ConfigSnapshot for `rows` at `rows.revision`, stamped with the current schema version."""
    providers: list[config_pb2.Provider] = []
    for provider in rows.providers:
        if not provider.enabled:
            continue
        try:
            providers.append(_provider(provider, envelope, dataplane))
        except EnvelopeError:
            log.error(
                "provider credentials cannot be opened; provider left out", extra={"provider": provider.name}
            )
    usable_providers = {p.id for p in providers}
    models = [m for m in rows.models if m.enabled]
    model_ids = {m.id for m in models}
    deployments = [
        d
        for d in rows.deployments
        if d.enabled and d.model_id in model_ids and str(d.provider_id) in usable_providers
    ]
    by_model: dict[object, list[Deployment]] = defaultdict(list)
    for deployment in sorted(deployments, key=lambda d: (d.priority, str(d.id))):
        by_model[deployment.model_id].append(deployment)
    created_at = Timestamp()
    created_at.FromDatetime(now)
    return config_pb2.ConfigSnapshot(
        revision=rows.revision,
        schema_version=SNAPSHOT_SCHEMA_VERSION,
        created_at=created_at,
        models=[_model(m) for m in models],
        deployments=[_deployment(d) for d in deployments],
        routes=[
            config_pb2.Route(
                id=str(route.id),
                model_id=str(route.model_id),
                strategy=STRATEGIES.get(route.strategy, config_pb2.ROUTING_STRATEGY_WEIGHTED),
                deployment_ids=[str(d.id) for d in by_model[route.model_id]],
                fallback_models=route.fallback_models,
            )
            for route in rows.routes
            if route.model_id in model_ids
        ],
        providers=providers,
        allow_unpriced_models=allow_unpriced_models,
        budgets=[_budget(b) for b in rows.budgets],
        default_key_limits=to_proto(rows.rate_limit_defaults, "key"),
        default_tenant_limits=to_proto(rows.rate_limit_defaults, "tenant"),
    )
