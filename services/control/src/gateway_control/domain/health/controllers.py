"""HTTP routes of the health context."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, get
from litestar.di import Provide
from litestar.params import Parameter

from gateway_control.domain.health.schemas import DeploymentHealth, DeploymentHealthList
from gateway_control.domain.health.services import DeploymentHealthService
from gateway_control.security.guards import require_platform_admin
from gateway_control.state import ControlState


def provide_health_service(control: ControlState) -> DeploymentHealthService:
    """A DeploymentHealthService over the app's database and health client."""
    return DeploymentHealthService(control.db, control.health)


class HealthController(Controller):
    """Deployment health from the health service's active probes (for the UI)."""

    path = "/health"
    tags = ["health"]
    guards = [require_platform_admin]
    dependencies = {"health": Provide(provide_health_service, sync_to_thread=False)}

    @get("/deployments", operation_id="listDeploymentHealth", summary="List deployment health")
    async def list_deployment_health(
        self,
        health: DeploymentHealthService,
        model: Annotated[
            str | None, Parameter(max_length=200, description="Only the deployments of this model")
        ] = None,
    ) -> DeploymentHealthList:
        """Every deployment's status and recent probes; 503 `health_unavailable` when health is down."""
        return await health.list_health(model)

    @get(
        "/deployments/{deployment_id:uuid}",
        operation_id="getDeploymentHealth",
        summary="Get a deployment's health",
    )
    async def get_deployment_health(
        self, health: DeploymentHealthService, deployment_id: uuid.UUID
    ) -> DeploymentHealth:
        """One deployment's status and recent probes; 404 unknown id, 503 when health is down."""
        return await health.get_health(deployment_id)
