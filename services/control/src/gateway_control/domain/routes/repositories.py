"""Route and deployment rows in Postgres, through the sqlc-generated queries."""

from __future__ import annotations

import uuid

from gateway_control.database import Connection
from gateway_control.db import deployments as deployment_queries
from gateway_control.db import routes as route_queries
from gateway_control.db.routes import ListRoutesRow
from gateway_control.db.tables import Deployment, Route


class RouteRepository:
    """Route and deployment queries on one connection."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def create_deployment(
        self, *, model_id: uuid.UUID, provider_id: uuid.UUID, upstream_model: str, weight: int, priority: int
    ) -> Deployment:
        """Attach an upstream to a model."""
        row = await deployment_queries.create_deployment(
            self._conn,
            model_id=model_id,
            provider_id=provider_id,
            upstream_model=upstream_model,
            weight=weight,
            priority=priority,
            rpm_limit=None,
            tpm_limit=None,
            settings={},
            enabled=True,
        )
        if row is None:
            raise RuntimeError("INSERT ... RETURNING returned no row")
        return row

    async def create_route(self, *, model_id: uuid.UUID, strategy: str, fallback_models: list[str]) -> Route:
        """Create the route of a model (one per model: a second raises a unique violation)."""
        row = await route_queries.create_route(
            self._conn, model_id=model_id, strategy=strategy, fallback_models=fallback_models
        )
        if row is None:
            raise RuntimeError("INSERT ... RETURNING returned no row")
        return row

    async def deployments_of(self, model_id: uuid.UUID) -> list[Deployment]:
        """A model's deployments, lowest priority number first."""
        return await deployment_queries.list_deployments_by_model(self._conn, model_id=model_id)

    async def list_routes(self) -> list[ListRoutesRow]:
        """Every route with its model's name."""
        return await route_queries.list_routes(self._conn)

    async def list_deployments(self) -> list[Deployment]:
        """Every deployment."""
        return await deployment_queries.list_deployments(self._conn)
