"""The embedded stack: real Postgres, Valkey and NATS JetStream as children of this process.

    settings = StackSettings.from_env(Path(".run/dev"), os.environ)
    with start_stack(settings) as stack:
        print(stack.endpoints.database_url)

Layout under the root: postgres/data, pg-bin (only when the binaries must be copied),
valkey/, nats/jetstream, logs/*.log, stack.json, stack.lock.
"""

from __future__ import annotations

import atexit
import os
import subprocess
import time
from pathlib import Path
from types import TracebackType

from gateway_devstack.base import ExternalServer, Server, Stack, StackEndpoints
from gateway_devstack.errors import DevStackError
from gateway_devstack.nats_server import NatsServer
from gateway_devstack.postgres import PostgresServer
from gateway_devstack.procs import free_port, port_is_free
from gateway_devstack.settings import StackMode, StackSettings
from gateway_devstack.state import StackLock, previous_port, read_state, write_state
from gateway_devstack.valkey import ValkeyServer

SERVER_NAMES = ("postgres", "redis", "nats")


class DevStack:
    """Three servers started together and stopped together (in reverse order).

    Stopping happens on `stop()`, on leaving the `with` block (exceptions and Ctrl-C
    included) and at interpreter exit; if this process is killed outright, the kernel
    signals the servers (PR_SET_PDEATHSIG). Each server can also be stopped and started
    again on the same port and data, for fault tests.
    """

    def __init__(self, root: Path, servers: dict[str, Server], mode: StackMode) -> None:
        self.root = root
        self.mode = mode
        self._servers = servers
        self._lock = StackLock(root)
        self._started = False

    @property
    def endpoints(self) -> StackEndpoints:
        """The URLs of the three servers."""
        return StackEndpoints(
            database_url=self._servers["postgres"].url,
            redis_url=self._servers["redis"].url,
            nats_url=self._servers["nats"].url,
        )

    def server(self, name: str) -> Server:
        """The server called `name` (postgres, redis or nats)."""
        return self._servers[name]

    def start(self) -> None:
        """Take the root's lock and start every server; on failure stop what started."""
        self.root.mkdir(parents=True, exist_ok=True)
        self._lock.acquire()
        atexit.register(self.stop)
        self._started = True
        try:
            for name in SERVER_NAMES:
                # The URLs are published below (stack.json), so a taken port may still move.
                self._servers[name].start(choose_ports=True)
        except BaseException:
            self.stop()
            raise
        self._write_state()

    def stop(self) -> None:
        """Stop every server we started (idempotent) and release the root's lock."""
        if not self._started:
            return
        failures: list[OSError | subprocess.SubprocessError] = []
        try:
            for name in reversed(SERVER_NAMES):
                # One server failing to stop must not leave the others running.
                try:
                    self._servers[name].stop()
                except (OSError, subprocess.SubprocessError) as exc:
                    failures.append(exc)
        finally:
            self._started = False
            atexit.unregister(self.stop)
            self._write_state()
            self._lock.release()
        if failures:
            raise failures[0]

    def dead_servers(self) -> list[str]:
        """Names of servers that should run but have exited (for a launcher's watch loop)."""
        return [name for name in SERVER_NAMES if self._started and not self._servers[name].is_running()]

    def stop_postgres(self) -> None:
        """Stop Postgres only (fast shutdown); its port and data stay reserved for start_postgres()."""
        self._restart_step("postgres", start=False)

    def start_postgres(self) -> None:
        """Start Postgres again on the same port and data."""
        self._restart_step("postgres", start=True)

    def stop_redis(self) -> None:
        """Stop Valkey only; its data is gone (no persistence), the port is kept."""
        self._restart_step("redis", start=False)

    def start_redis(self) -> None:
        """Start Valkey again on the same port."""
        self._restart_step("redis", start=True)

    def stop_nats(self) -> None:
        """Stop NATS only; JetStream data stays on disk."""
        self._restart_step("nats", start=False)

    def start_nats(self) -> None:
        """Start NATS again on the same ports and JetStream store."""
        self._restart_step("nats", start=True)

    def _restart_step(self, name: str, *, start: bool) -> None:
        server = self._servers[name]
        if isinstance(server, ExternalServer):
            raise server.restart_error()
        if not self._started:
            raise DevStackError("the stack is not running")
        if start:
            server.start()
        else:
            server.stop()
        self._write_state()

    def _write_state(self) -> None:
        write_state(
            self.root,
            {
                "root": str(self.root),
                "mode": self.mode.value,
                "launcher_pid": os.getpid(),
                "running": self._started,
                "updated_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "servers": {name: server.describe() for name, server in self._servers.items()},
            },
        )

    def __enter__(self) -> DevStack:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _port(previous: int | None) -> int:
    """Reuse last run's port when it is still free, so URLs stay stable across `make dev`."""
    if previous is not None and port_is_free(previous):
        return previous
    return free_port()


def build_embedded_stack(settings: StackSettings) -> DevStack:
    """Assemble (without starting) the embedded stack that `settings` describes."""
    root = settings.root
    state = read_state(root)
    start_timeout, stop_timeout = settings.start_timeout, settings.stop_timeout
    servers: dict[str, Server] = {}
    if settings.database_url:
        servers["postgres"] = ExternalServer("postgres", settings.database_url, "DATABASE_URL")
    else:
        servers["postgres"] = PostgresServer(
            port=_port(previous_port(state, "postgres")),
            base_dir=root / "postgres",
            bin_cache_dir=root / "pg-bin",
            log_path=root / "logs" / "postgres.log",
            durable=settings.durable,
            start_timeout=start_timeout,
            stop_timeout=stop_timeout,
        )
    if settings.redis_url:
        servers["redis"] = ExternalServer("redis", settings.redis_url, "REDIS_URL")
    else:
        servers["redis"] = ValkeyServer(
            port=_port(previous_port(state, "redis")),
            data_dir=root / "valkey",
            log_path=root / "logs" / "valkey.log",
            start_timeout=start_timeout,
            stop_timeout=stop_timeout,
        )
    if settings.nats_url:
        servers["nats"] = ExternalServer("nats", settings.nats_url, "NATS_URL")
    else:
        servers["nats"] = NatsServer(
            port=_port(previous_port(state, "nats")),
            monitor_port=_port(previous_port(state, "nats", "monitor_port")),
            store_dir=root / "nats" / "jetstream",
            log_path=root / "logs" / "nats.log",
            start_timeout=start_timeout,
            stop_timeout=stop_timeout,
        )
    return DevStack(root, servers, settings.mode)


def start_stack(settings: StackSettings) -> Stack:
    """Start the stack `settings` describes and return it, ready to serve clients.

    Embedded by default; with `mode=CONTAINERS` the servers run in Docker through
    testcontainers instead. Use the result as a context manager, or call `stop()`.
    """
    if settings.mode is StackMode.CONTAINERS:
        from gateway_devstack.containers import ContainerStack

        containers = ContainerStack(settings)
        containers.start()
        return containers
    stack = build_embedded_stack(settings)
    stack.start()
    return stack
