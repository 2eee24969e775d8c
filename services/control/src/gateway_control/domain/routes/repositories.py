"""Route and deployment rows in Postgres, through the sqlc-generated queries."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from gateway_control.database import Connection
from gateway_control.db import deployments as deployment_queries
from gateway_control.db import routes as route_queries
from gateway_control.db.routes import GetRouteForUpdateRow, ListRoutesRow
from gateway_control.db.tables import Deployment, Route
from gateway_control.domain.routes.schemas import DeploymentCost
from gateway_control.errors import NotFoundError


@dataclass(frozen=True, slots=True)
class DeploymentFields:
    """The routing fields of a deployment, as written to its row (None = no cap / no cost)."""

    weight: int
    priority: int
    rpm_limit: int | None
    tpm_limit: int | None
    cost: DeploymentCost | None
    enabled: bool = True

    @property
    def cost_input(self) -> int | None:
        """The cost column for input tokens (None without a cost)."""
        return None if self.cost is None else self.cost.input_micro_usd_per_mtok

    @property
    def cost_output(self) -> int | None:
        """The cost column for output tokens (None without a cost)."""
        return None if self.cost is None else self.cost.output_micro_usd_per_mtok

    @property
    def cost_cached_input(self) -> int | None:
        """The cost column for cached input tokens (None: the input cost)."""
        return None if self.cost is None else self.cost.cached_input_micro_usd_per_mtok


def deployment_cost(row: Deployment) -> DeploymentCost | None:
    """The cost stored on a deployment row, or None when none is set."""
    if row.cost_input_micro_usd_per_mtok is None or row.cost_output_micro_usd_per_mtok is None:
        return None
    return DeploymentCost(
        input_micro_usd_per_mtok=row.cost_input_micro_usd_per_mtok,
        output_micro_usd_per_mtok=row.cost_output_micro_usd_per_mtok,
        cached_input_micro_usd_per_mtok=row.cost_cached_input_micro_usd_per_mtok,
    )


class RouteRepository:
    """Route and deployment queries on one connection; a missing row raises NotFoundError."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def create_deployment(
        self, *, model_id: uuid.UUID, provider_id: uuid.UUID, upstream_model: str, fields: DeploymentFields
    ) -> Deployment:
        """Attach an upstream to a model."""
        row = await deployment_queries.create_deployment(
            self._conn,
            model_id=model_id,
            provider_id=provider_id,
            upstream_model=upstream_model,
            weight=fields.weight,
            priority=fields.priority,
            rpm_limit=fields.rpm_limit,
            tpm_limit=fields.tpm_limit,
            settings={},
            enabled=fields.enabled,
            cost_input_micro_usd_per_mtok=fields.cost_input,
            cost_output_micro_usd_per_mtok=fields.cost_output,
            cost_cached_input_micro_usd_per_mtok=fields.cost_cached_input,
        )
        if row is None:
            raise RuntimeError("INSERT ... RETURNING returned no row")
        return row

    async def lock_deployment(self, deployment_id: uuid.UUID) -> Deployment:
        """A deployment, locked for the rest of the transaction."""
        row = await deployment_queries.get_deployment_for_update(self._conn, id=deployment_id)
        if row is None:
            raise NotFoundError(f"deployment {deployment_id} does not exist")
        return row

    async def update_deployment(self, deployment_id: uuid.UUID, fields: DeploymentFields) -> Deployment:
        """Write a deployment's routing fields."""
        row = await deployment_queries.update_deployment(
            self._conn,
            id=deployment_id,
            weight=fields.weight,
            priority=fields.priority,
            rpm_limit=fields.rpm_limit,
            tpm_limit=fields.tpm_limit,
            enabled=fields.enabled,
            cost_input_micro_usd_per_mtok=fields.cost_input,
            cost_output_micro_usd_per_mtok=fields.cost_output,
            cost_cached_input_micro_usd_per_mtok=fields.cost_cached_input,
        )
        if row is None:
            raise NotFoundError(f"deployment {deployment_id} does not exist")
        return row

    async def create_route(self, *, model_id: uuid.UUID, strategy: str, fallback_models: list[str]) -> Route:
        """Create the route of a model (one per model: a second raises a unique violation)."""
        row = await route_queries.create_route(
            self._conn, model_id=model_id, strategy=strategy, fallback_models=fallback_models
        )
        if row is None:
            raise RuntimeError("INSERT ... RETURNING returned no row")
        return row

    async def lock_route(self, route_id: uuid.UUID) -> GetRouteForUpdateRow:
        """A route with its model's name, locked for the rest of the transaction."""
        row = await route_queries.get_route_for_update(self._conn, id=route_id)
        if row is None:
            raise NotFoundError(f"route {route_id} does not exist")
        return row

    async def update_route(self, route_id: uuid.UUID, *, strategy: str, fallback_models: list[str]) -> Route:
        """Write a route's strategy and fallback models."""
        row = await route_queries.update_route(
            self._conn, id=route_id, strategy=strategy, fallback_models=fallback_models
        )
        if row is None:
            raise NotFoundError(f"route {route_id} does not exist")
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
