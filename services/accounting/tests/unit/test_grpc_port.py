"""The gRPC port is bound by exactly one process: a second bind fails loudly instead of sharing."""

from __future__ import annotations

import pytest
from gateway_accounting.app import build_state
from gateway_accounting.grpc_server import GrpcServer
from gateway_accounting.settings import AccountingSettings
from gateway_devstack.procs import free_port


def _server(port: int) -> GrpcServer:
    settings = AccountingSettings(
        database_url="postgresql://unused/db", nats_url="nats://127.0.0.1:1", accounting_grpc_port=port
    )
    return build_state(settings).grpc


async def test_a_second_server_on_the_same_port_is_refused() -> None:
    port = free_port()
    first, second = _server(port), _server(port)
    await first.start()
    try:
        with pytest.raises(OSError, match=f"127.0.0.1:{port}"):
            await second.start()
    finally:
        await first.stop(0)
        await second.stop(0)
