"""`gateway.v1.HealthService` over gRPC (grpc.aio), answered from the in-memory `HealthView`.

The view mirrors the `gateway_health` KV bucket, so every replica gives the same answer. Until
the view has loaded the bucket once (NATS unreachable since startup) the call fails with
UNAVAILABLE rather than answering "nothing is known" as if it were the truth.
"""

from __future__ import annotations

import logging

import grpc
from gateway_proto.v1 import health_pb2_grpc
from gateway_proto.v1.health_pb2 import GetDeploymentHealthRequest, GetDeploymentHealthResponse

from gateway_health.view import HealthView

log = logging.getLogger(__name__)


class HealthServicer(health_pb2_grpc.HealthServiceServicer):
    """Implements HealthService.GetDeploymentHealth on top of a HealthView."""

    def __init__(self, view: HealthView) -> None:
        self._view = view

    async def GetDeploymentHealth(
        self,
        request: GetDeploymentHealthRequest,
        context: grpc.aio.ServicerContext[GetDeploymentHealthRequest, GetDeploymentHealthResponse],
    ) -> GetDeploymentHealthResponse:
        """The current health of the requested deployments (all when none is named)."""
        if not self._view.synced:
            await context.abort(grpc.StatusCode.UNAVAILABLE, "deployment health not loaded yet (NATS)")
        return GetDeploymentHealthResponse(deployments=self._view.select(request.deployment_ids))


async def start_grpc_server(host: str, port: int, view: HealthView) -> grpc.aio.Server:
    """Start a grpc.aio server with HealthService on host:port and return it (stop it on shutdown)."""
    server = grpc.aio.server()
    health_pb2_grpc.add_HealthServiceServicer_to_server(HealthServicer(view), server)
    address = f"{host}:{port}"
    try:
        # grpcio raises on a port in use; older releases returned 0 instead.
        bound = server.add_insecure_port(address)
    except RuntimeError as exc:
        raise OSError(f"gRPC: cannot bind {address} (HEALTH_HOST/HEALTH_GRPC_PORT): {exc}") from None
    if bound == 0:
        raise OSError(f"gRPC: cannot bind {address} (HEALTH_HOST/HEALTH_GRPC_PORT)")
    await server.start()
    log.info("gRPC HealthService listening", extra={"address": address})
    return server
