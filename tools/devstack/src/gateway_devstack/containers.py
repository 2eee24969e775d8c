"""The same three servers in Docker via testcontainers (GATEWAY_STACK=containers).

UNTESTED on the project's machines: no Docker engine runs there. It needs the
`containers` extra (`testcontainers[postgres,redis,nats]`), imported lazily here.
Fault injection (stop_redis() and friends) is not offered in this mode: a restarted
container may come back on another host port.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any

from gateway_devstack.base import StackEndpoints
from gateway_devstack.errors import DevStackError, UnsupportedError
from gateway_devstack.settings import StackSettings

POSTGRES_IMAGE = "postgres:18"
VALKEY_IMAGE = "valkey/valkey:9"
NATS_IMAGE = "nats:2.12"


class ContainerStack:
    """Postgres, Valkey and NATS JetStream containers; URLs set in the settings are used instead."""

    def __init__(self, settings: StackSettings) -> None:
        self._settings = settings
        self._containers: list[Any] = []
        self._endpoints: StackEndpoints | None = None

    @property
    def endpoints(self) -> StackEndpoints:
        """The URLs of the three servers (available after start())."""
        if self._endpoints is None:
            raise DevStackError("the container stack is not started")
        return self._endpoints

    def start(self) -> None:
        """Start the containers that no URL replaces; on failure stop those already started."""
        try:
            self._endpoints = StackEndpoints(
                database_url=self._settings.database_url or self._start_postgres(),
                redis_url=self._settings.redis_url or self._start_valkey(),
                nats_url=self._settings.nats_url or self._start_nats(),
            )
        except BaseException:
            self.stop()
            raise

    def _start_postgres(self) -> str:
        from testcontainers.postgres import PostgresContainer

        container = PostgresContainer(
            POSTGRES_IMAGE, username="postgres", password="postgres", dbname="gateway"
        )
        self._containers.append(container.start())
        url: str = container.get_connection_url(driver=None)
        return url

    def _start_valkey(self) -> str:
        from testcontainers.redis import RedisContainer

        container = RedisContainer(VALKEY_IMAGE)
        self._containers.append(container.start())
        return f"redis://{container.get_container_host_ip()}:{container.get_exposed_port(6379)}/0"

    def _start_nats(self) -> str:
        from testcontainers.nats import NatsContainer

        container = NatsContainer(NATS_IMAGE).with_command("-js -m 8222")
        self._containers.append(container.start())
        return f"nats://{container.get_container_host_ip()}:{container.get_exposed_port(4222)}"

    def stop(self) -> None:
        """Stop and remove every container we started."""
        while self._containers:
            self._containers.pop().stop()

    def dead_servers(self) -> list[str]:
        """Docker restarts nothing for us and we do not watch containers: always empty."""
        return []

    def _unsupported(self) -> UnsupportedError:
        return UnsupportedError("stopping one server is only supported by the embedded stack")

    def stop_postgres(self) -> None:
        """Not supported in containers mode."""
        raise self._unsupported()

    def start_postgres(self) -> None:
        """Not supported in containers mode."""
        raise self._unsupported()

    def stop_redis(self) -> None:
        """Not supported in containers mode."""
        raise self._unsupported()

    def start_redis(self) -> None:
        """Not supported in containers mode."""
        raise self._unsupported()

    def stop_nats(self) -> None:
        """Not supported in containers mode."""
        raise self._unsupported()

    def start_nats(self) -> None:
        """Not supported in containers mode."""
        raise self._unsupported()

    def __enter__(self) -> ContainerStack:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
