"""Health use cases: control's deployments joined with the health service's verdict on each."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from gateway_proto.v1 import health_pb2
from google.protobuf.timestamp_pb2 import Timestamp

from gateway_control.clients.health import HealthClient
from gateway_control.database import Database
from gateway_control.db.deployments import ListDeploymentNamesRow
from gateway_control.domain.health.repositories import DeploymentNameRepository
from gateway_control.domain.health.schemas import (
    DeploymentHealth,
    DeploymentHealthList,
    HealthStatusName,
    ProbeResult,
)
from gateway_control.errors import NotFoundError

STATUS_NAMES: dict[health_pb2.HealthStatus.ValueType, HealthStatusName] = {
    health_pb2.HEALTH_STATUS_HEALTHY: "healthy",
    health_pb2.HEALTH_STATUS_UNHEALTHY: "unhealthy",
    health_pb2.HEALTH_STATUS_UNSPECIFIED: "unknown",
}


def _time(stamp: Timestamp, present: bool) -> datetime | None:
    return stamp.ToDatetime(tzinfo=UTC) if present else None


def _probe(result: health_pb2.ProbeResult) -> ProbeResult:
    return ProbeResult(
        at=_time(result.at, result.HasField("at")),
        ok=result.ok,
        status_code=result.status_code or None,
        latency_ms=result.latency_ms,
        error=result.error or None,
    )


def to_deployment_health(
    row: ListDeploymentNamesRow, health: health_pb2.DeploymentHealth
) -> DeploymentHealth:
    """The API view of a deployment and the health service's record of it."""
    return DeploymentHealth(
        deployment_id=row.id,
        model_id=row.model_id,
        model=row.model_name,
        provider_id=row.provider_id,
        provider=row.provider_name,
        provider_type=row.provider_type,
        upstream_model=row.upstream_model,
        priority=row.priority,
        in_service=row.in_service,
        status=STATUS_NAMES.get(health.status, "unknown"),
        checked_at=_time(health.checked_at, health.HasField("checked_at")),
        cooldown_until=_time(health.cooldown_until, health.HasField("cooldown_until")),
        prober=health.prober or None,
        recent=[_probe(r) for r in health.recent],
    )


class DeploymentHealthService:
    """Reads deployments from Postgres and their health from the health service (gRPC)."""

    def __init__(self, db: Database, health: HealthClient) -> None:
        self._db = db
        self._health = health

    async def list_health(self, model: str | None = None) -> DeploymentHealthList:
        """Every deployment (of `model` when given) with its health; 503 when health is down."""
        async with self._db.connection() as conn:
            rows = await DeploymentNameRepository(conn).list_all(model=model)
        return DeploymentHealthList(items=await self._join(rows))

    async def get_health(self, deployment_id: uuid.UUID) -> DeploymentHealth:
        """One deployment with its health; 404 unknown id, 503 when health is down."""
        async with self._db.connection() as conn:
            row = await DeploymentNameRepository(conn).find(deployment_id)
        if row is None:
            raise NotFoundError(f"deployment {deployment_id} does not exist")
        [joined] = await self._join([row])
        return joined

    async def _join(self, rows: list[ListDeploymentNamesRow]) -> list[DeploymentHealth]:
        records = await self._health.deployment_health([str(row.id) for row in rows])
        by_id = {record.deployment_id: record for record in records}
        return [
            to_deployment_health(row, by_id.get(str(row.id)) or health_pb2.DeploymentHealth()) for row in rows
        ]
