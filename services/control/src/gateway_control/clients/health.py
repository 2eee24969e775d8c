"""gRPC client of the health service's HealthService.

Like the accounting client, the channel is created in the app lifespan and connects lazily, so
control starts while health is down; a call then fails fast (one deadline) with
DependencyUnavailableError, which the API answers with 503 `health_unavailable`.
"""

from __future__ import annotations

from collections.abc import Sequence

import grpc
from gateway_proto.v1 import health_pb2, health_pb2_grpc

from gateway_control.clients.grpc_errors import rpc_error


class HealthClient:
    """Typed calls to HealthService with a deadline on each."""

    def __init__(self, target: str, timeout_s: float) -> None:
        self._target = target
        self._timeout_s = timeout_s
        self._channel = grpc.aio.insecure_channel(target)
        self._stub = health_pb2_grpc.HealthServiceStub(self._channel)

    async def deployment_health(self, deployment_ids: Sequence[str]) -> list[health_pb2.DeploymentHealth]:
        """The current health of these deployments, in the same order.

        A deployment the health service has no record of comes back with status UNSPECIFIED.
        An empty list asks for nothing (the service would read it as "all").
        """
        if not deployment_ids:
            return []
        request = health_pb2.GetDeploymentHealthRequest(deployment_ids=list(deployment_ids))
        try:
            response = await self._stub.GetDeploymentHealth(request, timeout=self._timeout_s)
        except grpc.aio.AioRpcError as exc:
            raise rpc_error("health", self._target, exc) from exc
        return list(response.deployments)

    async def close(self) -> None:
        """Close the channel (cancels calls still in flight)."""
        await self._channel.close(grace=1.0)
