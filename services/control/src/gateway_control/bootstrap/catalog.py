"""Applying the data-plane catalogue of a bootstrap file: providers, models, routes and deployments.

Each entry is matched by its natural key (provider and model by name, a route by its model, a
deployment by provider + upstream model within its route); an entry that matches is updated
only where it differs, so re-applying the same file writes nothing. Deployments, models and
providers not in the file are left as they are.
"""

from __future__ import annotations

from gateway_providers.registry import registered_types

from gateway_control.bootstrap.context import BootstrapContext
from gateway_control.bootstrap.spec import (
    BootstrapError,
    ModelSpec,
    ProviderSpec,
    RouteSpec,
    quoted,
    resolve_env,
)
from gateway_control.db import providers as provider_queries
from gateway_control.db.tables import Model as ModelRow
from gateway_control.db.tables import Provider as ProviderRow
from gateway_control.domain.models.repositories import ModelRepository
from gateway_control.domain.models.schemas import ModelUpdate
from gateway_control.domain.models.services import to_model
from gateway_control.domain.providers.repositories import ProviderRepository
from gateway_control.domain.providers.services import to_provider
from gateway_control.domain.routes.repositories import DeploymentFields, RouteRepository, deployment_cost
from gateway_control.domain.routes.services import to_deployment
from gateway_control.publishing.snapshot import string_map
from gateway_control.security.credentials import open_credentials, seal_credentials
from gateway_control.security.envelope import EnvelopeError


async def apply_providers(ctx: BootstrapContext, specs: list[ProviderSpec]) -> None:
    """Create or update every provider of the file (credentials resealed only when they differ)."""
    known = registered_types()
    repo = ProviderRepository(ctx.conn)
    for index, spec in enumerate(specs):
        path = f"providers[{index}]"
        if spec.type not in known:
            raise BootstrapError(
                [f"{path}.type: unknown provider type {quoted(spec.type)}; known: {', '.join(sorted(known))}"]
            )
        credentials = {
            name: resolve_env(ctx.environ, env, f"{path}.credentials_env.{name}")
            for name, env in spec.credentials_env.items()
        }
        row = await provider_queries.get_provider_by_name(ctx.conn, name=spec.name)
        if row is None:
            row = await repo.create(
                name=spec.name, type_=spec.type, base_url=spec.base_url, settings=dict(spec.settings)
            )
            if not spec.enabled:
                row = await repo.update(row.id, base_url=row.base_url, settings=row.settings, enabled=False)
            if credentials:
                row = await repo.set_credentials(row.id, seal_credentials(ctx.envelope, row.id, credentials))
            await ctx.audit(
                "provider.create", "provider", row.id, spec.name, after=to_provider(row), config=True
            )
            continue
        if row.type != spec.type:
            raise BootstrapError(
                [f"{path}.type: {quoted(spec.name)} exists with type {quoted(row.type)}, which cannot change"]
            )
        replace_credentials = bool(credentials) and _stored_credentials(ctx, row) != credentials
        same = (
            row.base_url == spec.base_url
            and string_map(row.settings) == spec.settings
            and row.enabled == spec.enabled
        )
        if same and not replace_credentials:
            continue
        before = to_provider(row)
        row = await repo.update(
            row.id, base_url=spec.base_url, settings=dict(spec.settings), enabled=spec.enabled
        )
        if replace_credentials:
            row = await repo.set_credentials(row.id, seal_credentials(ctx.envelope, row.id, credentials))
        after = {"after": to_provider(row), "credentials_replaced": replace_credentials}
        await ctx.audit(
            "provider.update", "provider", row.id, spec.name, before=before, after=after, config=True
        )


def _stored_credentials(ctx: BootstrapContext, row: ProviderRow) -> dict[str, str] | None:
    try:
        return open_credentials(ctx.envelope, row)
    except EnvelopeError:
        return None  # sealed under a key we no longer hold: the file's credentials replace them


def _model_differs(row: ModelRow, spec: ModelSpec) -> bool:
    current = to_model(row)
    return (
        current.pricing != spec.pricing
        or current.owned_by != spec.owned_by
        or (spec.context_window is not None and current.context_window != spec.context_window)
        or current.capabilities != sorted(set(spec.capabilities))
        or current.enabled != spec.enabled
    )


async def apply_models(ctx: BootstrapContext, specs: list[ModelSpec]) -> None:
    """Create or update every model of the file (an unset context window leaves the stored one)."""
    repo = ModelRepository(ctx.conn)
    for spec in specs:
        update = ModelUpdate(
            pricing=spec.pricing,
            owned_by=spec.owned_by,
            context_window=spec.context_window,
            capabilities=spec.capabilities,
            enabled=spec.enabled,
        )
        row = await repo.find_by_name(spec.name)
        if row is None:
            created = await repo.create(spec)
            if not spec.enabled:
                created = await repo.update(created, update)
            await ctx.audit(
                "model.create", "model", created.id, spec.name, after=to_model(created), config=True
            )
        elif _model_differs(row, spec):
            updated = await repo.update(row, update)
            await ctx.audit(
                "model.update",
                "model",
                row.id,
                spec.name,
                before=to_model(row),
                after=to_model(updated),
                config=True,
            )


async def _check_route_references(ctx: BootstrapContext, spec: RouteSpec, path: str) -> None:
    models = ModelRepository(ctx.conn)
    for index, fallback in enumerate(spec.fallback_models):
        if fallback == spec.model:
            raise BootstrapError([f"{path}.fallback_models[{index}]: a route cannot fall back to itself"])
        if await models.find_by_name(fallback) is None:
            raise BootstrapError([f"{path}.fallback_models[{index}]: unknown model {quoted(fallback)}"])
    seen: dict[tuple[str, str], int] = {}
    for index, deployment in enumerate(spec.deployments):
        key = (deployment.provider, deployment.upstream_model)
        if key in seen:
            raise BootstrapError([f"{path}.deployments[{index}]: duplicate of deployments[{seen[key]}]"])
        seen[key] = index


async def apply_routes(ctx: BootstrapContext, specs: list[RouteSpec]) -> None:
    """Create or update every route and its listed deployments (unlisted deployments stay)."""
    repo = RouteRepository(ctx.conn)
    routes = {row.model_name: row for row in await repo.list_routes()}
    for index, spec in enumerate(specs):
        path = f"routes[{index}]"
        model = await ModelRepository(ctx.conn).find_by_name(spec.model)
        if model is None:
            raise BootstrapError([f"{path}.model: unknown model {quoted(spec.model)}"])
        await _check_route_references(ctx, spec, path)
        existing = {(row.provider_id, row.upstream_model): row for row in await repo.deployments_of(model.id)}
        for d_index, deployment in enumerate(spec.deployments):
            name = deployment.provider
            provider = await provider_queries.get_provider_by_name(ctx.conn, name=name)
            if provider is None:
                raise BootstrapError(
                    [f"{path}.deployments[{d_index}].provider: unknown provider {quoted(name)}"]
                )
            fields = DeploymentFields(
                weight=deployment.weight,
                priority=deployment.priority,
                rpm_limit=deployment.rpm_limit,
                tpm_limit=deployment.tpm_limit,
                cost=deployment.cost,
                enabled=deployment.enabled,
            )
            label = f"{spec.model} -> {deployment.provider}/{deployment.upstream_model}"
            current = existing.get((provider.id, deployment.upstream_model))
            if current is None:
                row = await repo.create_deployment(
                    model_id=model.id,
                    provider_id=provider.id,
                    upstream_model=deployment.upstream_model,
                    fields=fields,
                )
                await ctx.audit(
                    "deployment.create", "deployment", row.id, label, after=to_deployment(row), config=True
                )
                continue
            stored = DeploymentFields(
                weight=current.weight,
                priority=current.priority,
                rpm_limit=current.rpm_limit,
                tpm_limit=current.tpm_limit,
                cost=deployment_cost(current),
                enabled=current.enabled,
            )
            if stored != fields:
                row = await repo.update_deployment(current.id, fields)
                await ctx.audit(
                    "deployment.update",
                    "deployment",
                    row.id,
                    label,
                    before=to_deployment(current),
                    after=to_deployment(row),
                    config=True,
                )
        route = routes.get(spec.model)
        if route is None:
            created = await repo.create_route(
                model_id=model.id, strategy=spec.strategy, fallback_models=spec.fallback_models
            )
            after = {
                "model": spec.model,
                "strategy": created.strategy,
                "fallback_models": created.fallback_models,
            }
            await ctx.audit("route.create", "route", created.id, spec.model, after=after, config=True)
        elif route.strategy != spec.strategy or route.fallback_models != spec.fallback_models:
            updated = await repo.update_route(
                route.id, strategy=spec.strategy, fallback_models=spec.fallback_models
            )
            before = {
                "model": spec.model,
                "strategy": route.strategy,
                "fallback_models": route.fallback_models,
            }
            after = {
                "model": spec.model,
                "strategy": updated.strategy,
                "fallback_models": updated.fallback_models,
            }
            await ctx.audit(
                "route.update", "route", route.id, spec.model, before=before, after=after, config=True
            )
