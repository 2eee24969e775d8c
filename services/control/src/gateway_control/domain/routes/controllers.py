"""HTTP routes of the routes context."""

from __future__ import annotations

import uuid

from litestar import Controller, get, patch, post
from litestar.di import Provide

from gateway_control.domain.audit.services import Actor
from gateway_control.domain.routes.schemas import (
    Deployment,
    DeploymentUpdate,
    Route,
    RouteCreate,
    RouteList,
    RouteUpdate,
)
from gateway_control.domain.routes.services import RouteService
from gateway_control.security.guards import require_platform_admin
from gateway_control.state import ControlState


def provide_route_service(control: ControlState) -> RouteService:
    """A RouteService over the app's database and publisher."""
    return RouteService(control.db, control.publisher)


class RouteController(Controller):
    """Routes from model aliases to deployments."""

    path = "/routes"
    tags = ["routes"]
    guards = [require_platform_admin]
    dependencies = {"routes": Provide(provide_route_service, sync_to_thread=False)}

    @post("/", operation_id="createRoute", summary="Create a route and its deployments")
    async def create_route(self, routes: RouteService, actor: Actor, data: RouteCreate) -> Route:
        """Route a model to its deployments (created in the same transaction)."""
        return await routes.create(actor, data)

    @get("/", operation_id="listRoutes", summary="List routes")
    async def list_routes(self, routes: RouteService) -> RouteList:
        """Every route with its deployments."""
        return await routes.list()

    @patch("/{route_id:uuid}", operation_id="updateRoute", summary="Change a route")
    async def update_route(
        self, routes: RouteService, actor: Actor, route_id: uuid.UUID, data: RouteUpdate
    ) -> Route:
        """Strategy and fallback models; the proxy follows within a second."""
        return await routes.update(actor, route_id, data)

    @patch(
        "/{route_id:uuid}/deployments/{deployment_id:uuid}",
        operation_id="updateDeployment",
        summary="Change a deployment of a route",
    )
    async def update_deployment(
        self,
        routes: RouteService,
        actor: Actor,
        route_id: uuid.UUID,
        deployment_id: uuid.UUID,
        data: DeploymentUpdate,
    ) -> Deployment:
        """Weight, priority tier, the provider account's RPM/TPM caps, cost, enabled flag."""
        return await routes.update_deployment(actor, route_id, deployment_id, data)
