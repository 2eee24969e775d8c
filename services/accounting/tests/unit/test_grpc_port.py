"""The gRPC port is bound by exactly one process: a second bind fails loudly instead of sharing."""

from __future__ import annotations

import pytest
from gateway_accounting.database import Database
from gateway_accounting.grpc_server import AccountingServicer, GrpcServer
from gateway_accounting.usage_reader import UsageReader
from gateway_devstack.procs import free_port


async def _no_migrations() -> None:
    return None


def _server(port: int) -> GrpcServer:
    database = Database("postgresql://unused/db", min_size=0, max_size=1, migrate=_no_migrations)
    return GrpcServer(AccountingServicer(UsageReader(database)), "127.0.0.1", port)


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
