"""The shapes every stack shares: endpoints, a server, a stack."""

from __future__ import annotations

from dataclasses import dataclass
from types import TracebackType
from typing import Protocol

from gateway_devstack.errors import ExternalServerError


@dataclass(frozen=True)
class StackEndpoints:
    """Where the three servers listen, as URLs the services take in their settings."""

    database_url: str
    redis_url: str
    nats_url: str


class Server(Protocol):
    """One server of the stack, embedded or external."""

    @property
    def name(self) -> str: ...

    @property
    def url(self) -> str: ...

    def start(self, *, choose_ports: bool = False) -> None: ...

    def stop(self) -> None: ...

    def is_running(self) -> bool: ...

    def describe(self) -> dict[str, object]: ...


class Stack(Protocol):
    """A running Postgres + Redis (Valkey) + NATS trio, whatever started it."""

    @property
    def endpoints(self) -> StackEndpoints: ...

    def stop(self) -> None: ...

    def dead_servers(self) -> list[str]: ...

    def stop_postgres(self) -> None: ...

    def start_postgres(self) -> None: ...

    def stop_redis(self) -> None: ...

    def start_redis(self) -> None: ...

    def stop_nats(self) -> None: ...

    def start_nats(self) -> None: ...

    def __enter__(self) -> Stack: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


class ExternalServer:
    """A server given by URL in the environment: used as is, never started or stopped."""

    def __init__(self, name: str, url: str, env_var: str) -> None:
        self._name = name
        self._url = url
        self._env_var = env_var

    @property
    def name(self) -> str:
        """The server's role in the stack: postgres, redis or nats."""
        return self._name

    @property
    def url(self) -> str:
        """The URL taken from the environment."""
        return self._url

    def start(self, *, choose_ports: bool = False) -> None:
        """Nothing to start on stack start-up; a restart request is an error."""

    def stop(self) -> None:
        """Nothing to stop: the server belongs to whoever set the environment variable."""

    def is_running(self) -> bool:
        """Assume the external server runs; the stack does not watch it."""
        return True

    def restart_error(self) -> ExternalServerError:
        """The error for a fault test that tries to stop or start this server."""
        return ExternalServerError(
            f"{self._name} comes from {self._env_var}; the stack cannot stop or start it"
        )

    def describe(self) -> dict[str, object]:
        """State for stack.json."""
        return {"external": True, "url": self._url, "env_var": self._env_var}
