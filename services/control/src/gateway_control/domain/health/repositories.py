"""The deployments the health view lists, with their model and provider names."""

from __future__ import annotations

import uuid

from gateway_control.database import Connection
from gateway_control.db import deployments as deployment_queries
from gateway_control.db.deployments import ListDeploymentNamesRow


class DeploymentNameRepository:
    """Deployment name queries on one connection."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def list_all(self, *, model: str | None = None) -> list[ListDeploymentNamesRow]:
        """Every deployment (of `model` when given), by model name then priority."""
        return await deployment_queries.list_deployment_names(
            self._conn, deployment_id=None, model_name=model
        )

    async def find(self, deployment_id: uuid.UUID) -> ListDeploymentNamesRow | None:
        """One deployment, or None when it does not exist."""
        rows = await deployment_queries.list_deployment_names(
            self._conn, deployment_id=deployment_id, model_name=None
        )
        return rows[0] if rows else None
