"""Route use cases: create a route with its deployments in one transaction, list routes."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime

from gateway_control.database import Database
from gateway_control.db.tables import Deployment as DeploymentRow
from gateway_control.domain.audit.services import Actor, record
from gateway_control.domain.models.repositories import ModelRepository
from gateway_control.domain.providers.repositories import ProviderRepository
from gateway_control.domain.routes.repositories import RouteRepository
from gateway_control.domain.routes.schemas import Deployment, Route, RouteCreate, RouteList
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
        enabled=row.enabled,
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
            models = ModelRepository(conn)
            model = await models.find_by_name(data.model)
            if model is None:
                raise InvalidInputError(f"model {data.model!r} does not exist", details={"param": "model"})
            for fallback in data.fallback_models:
                if fallback == data.model or await models.find_by_name(fallback) is None:
                    raise InvalidInputError(
                        f"fallback model {fallback!r} does not exist or is the model itself",
                        details={"param": "fallback_models"},
                    )
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
                        weight=d.weight,
                        priority=d.priority,
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
