"""Route use cases: create a route with its deployments in one transaction, list routes, change a
route's strategy and fallbacks or a deployment's routing fields. Every change is audited and
triggers a new config snapshot."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime

from gateway_control.database import Connection, Database
from gateway_control.db.tables import Deployment as DeploymentRow
from gateway_control.domain.audit.services import Actor, record
from gateway_control.domain.models.repositories import ModelRepository
from gateway_control.domain.providers.repositories import ProviderRepository
from gateway_control.domain.routes.repositories import DeploymentFields, RouteRepository, deployment_cost
from gateway_control.domain.routes.schemas import (
    Deployment,
    DeploymentUpdate,
    Route,
    RouteCreate,
    RouteList,
    RouteUpdate,
)
from gateway_control.errors import InvalidInputError, NotFoundError
from gateway_control.publishing.publisher import ConfigPublisher


def to_deployment(row: DeploymentRow) -> Deployment:
    """The API view of a deployment row."""
    return Deployment(
        id=row.id,
        provider_id=row.provider_id,
        upstream_model=row.upstream_model,
        weight=row.weight,
        priority=row.priority,
        rpm_limit=row.rpm_limit,
        tpm_limit=row.tpm_limit,
        cost=deployment_cost(row),
        enabled=row.enabled,
    )


async def _check_fallbacks(conn: Connection, model: str, fallback_models: list[str]) -> None:
    """422 unless every fallback model exists and none is the model itself."""
    models = ModelRepository(conn)
    for fallback in fallback_models:
        if fallback == model or await models.find_by_name(fallback) is None:
            raise InvalidInputError(
                f"fallback model {fallback!r} does not exist or is the model itself",
                details={"param": "fallback_models"},
            )


def _updated_fields(current: Deployment, data: DeploymentUpdate) -> DeploymentFields:
    """The fields after applying `data`: omitted ones stay, a limit of 0 removes the cap."""
    if data.clear_cost and data.cost is not None:
        raise InvalidInputError("give either cost or clear_cost, not both", details={"param": "cost"})
    return DeploymentFields(
        weight=current.weight if data.weight is None else data.weight,
        priority=current.priority if data.priority is None else data.priority,
        rpm_limit=current.rpm_limit if data.rpm_limit is None else data.rpm_limit or None,
        tpm_limit=current.tpm_limit if data.tpm_limit is None else data.tpm_limit or None,
        cost=data.cost if data.cost is not None or data.clear_cost else current.cost,
        enabled=current.enabled if data.enabled is None else data.enabled,
    )


class RouteService:
    """Route operations; changes are audited and trigger a new config snapshot."""

    def __init__(self, db: Database, publisher: ConfigPublisher) -> None:
        self._db = db
        self._publisher = publisher

    async def create(self, actor: Actor, data: RouteCreate) -> Route:
        """Create the deployments and the route of a model, all or nothing.

        422 when the model, a provider or a fallback model does not exist; 409 when the model
        already has a route or a deployment is listed twice.
        """
        async with self._db.transaction() as conn:
            model = await ModelRepository(conn).find_by_name(data.model)
            if model is None:
                raise InvalidInputError(f"model {data.model!r} does not exist", details={"param": "model"})
            await _check_fallbacks(conn, data.model, data.fallback_models)
            providers = ProviderRepository(conn)
            for provider_id in {d.provider_id for d in data.deployments}:
                try:
                    await providers.get(provider_id)
                except NotFoundError as exc:
                    raise InvalidInputError(
                        exc.message, details={"param": "deployments.provider_id"}
                    ) from exc
            repo = RouteRepository(conn)
            deployments = [
                to_deployment(
                    await repo.create_deployment(
                        model_id=model.id,
                        provider_id=d.provider_id,
                        upstream_model=d.upstream_model,
                        fields=DeploymentFields(
                            weight=d.weight,
                            priority=d.priority,
                            rpm_limit=d.rpm_limit,
                            tpm_limit=d.tpm_limit,
                            cost=d.cost,
                        ),
                    )
                )
                for d in data.deployments
            ]
            row = await repo.create_route(
                model_id=model.id, strategy=data.strategy, fallback_models=data.fallback_models
            )
            route = _route(
                row.id, model.name, model.id, row.strategy, row.fallback_models, deployments, row.created_at
            )
            await record(conn, actor, "route.create", "route", route.id, after=route)
        self._publisher.request("route.create")
        return route

    async def update(self, actor: Actor, route_id: uuid.UUID, data: RouteUpdate) -> Route:
        """Change a route's strategy or fallback models; 404 unknown route, 422 unknown fallback."""
        async with self._db.transaction() as conn:
            repo = RouteRepository(conn)
            current = await repo.lock_route(route_id)
            deployments = [to_deployment(d) for d in await repo.deployments_of(current.model_id)]
            fallback_models = (
                current.fallback_models if data.fallback_models is None else data.fallback_models
            )
            await _check_fallbacks(conn, current.model_name, fallback_models)
            row = await repo.update_route(
                route_id, strategy=data.strategy or current.strategy, fallback_models=fallback_models
            )
            before = _route(
                current.id,
                current.model_name,
                current.model_id,
                current.strategy,
                current.fallback_models,
                deployments,
                current.created_at,
            )
            after = _route(
                row.id,
                current.model_name,
                row.model_id,
                row.strategy,
                row.fallback_models,
                deployments,
                row.created_at,
            )
            await record(conn, actor, "route.update", "route", route_id, before=before, after=after)
        self._publisher.request("route.update")
        return after

    async def update_deployment(
        self, actor: Actor, route_id: uuid.UUID, deployment_id: uuid.UUID, data: DeploymentUpdate
    ) -> Deployment:
        """Change one of a route's deployments; 404 when it is not a deployment of that route."""
        async with self._db.transaction() as conn:
            repo = RouteRepository(conn)
            route = await repo.lock_route(route_id)
            row = await repo.lock_deployment(deployment_id)
            if row.model_id != route.model_id:
                raise NotFoundError(f"deployment {deployment_id} does not exist")
            before = to_deployment(row)
            after = to_deployment(await repo.update_deployment(deployment_id, _updated_fields(before, data)))
            await record(
                conn, actor, "deployment.update", "deployment", deployment_id, before=before, after=after
            )
        self._publisher.request("deployment.update")
        return after

    async def list(self) -> RouteList:
        """Every route by model name, with the model's deployments."""
        async with self._db.connection() as conn:
            repo = RouteRepository(conn)
            routes = await repo.list_routes()
            all_deployments = await repo.list_deployments()
        by_model: dict[uuid.UUID, list[Deployment]] = defaultdict(list)
        for d in sorted(all_deployments, key=lambda d: (d.priority, str(d.id))):
            by_model[d.model_id].append(to_deployment(d))
        return RouteList(
            items=[
                _route(
                    r.id,
                    r.model_name,
                    r.model_id,
                    r.strategy,
                    r.fallback_models,
                    by_model[r.model_id],
                    r.created_at,
                )
                for r in routes
            ]
        )


def _route(
    route_id: uuid.UUID,
    model: str,
    model_id: uuid.UUID,
    strategy: str,
    fallback_models: list[str],
    deployments: list[Deployment],
    created_at: datetime,
) -> Route:
    return Route(
        id=route_id,
        model=model,
        model_id=model_id,
        strategy=strategy,
        fallback_models=fallback_models,
        deployments=deployments,
        created_at=created_at,
    )
