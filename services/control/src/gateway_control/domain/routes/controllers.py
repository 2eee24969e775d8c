"""HTTP routes of the routes context."""

from __future__ import annotations

from litestar import Controller, get, post
from litestar.di import Provide

from gateway_control.domain.audit.services import Actor
from gateway_control.domain.routes.schemas import Route, RouteCreate, RouteList
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
