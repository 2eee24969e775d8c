"""The whole gateway as child processes: the four services and a fake upstream.

Used by `make dev` (fixed ports from DESIGN.md) and by the end-to-end tests (free ports), so both
run the system the same way: each service is started with `python -m gateway_<name>` and an
explicit environment, and stopped with SIGTERM (graceful shutdown) when the system stops.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import sys
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from types import TracebackType

from gateway_devstack.base import StackEndpoints
from gateway_devstack.procs import ManagedProcess, free_port, port_is_free
from gateway_devstack.readiness import wait_for_ready

HOST = "127.0.0.1"
SERVICES = ("control", "accounting", "health", "proxy")
# Start order: the upstream first, the proxy last (and so, stopping in reverse, the proxy first).
PROCESSES = ("fake-openai", "accounting", "health", "control", "proxy")


@dataclass(frozen=True)
class SystemPorts:
    """Where each process listens."""

    proxy: int
    control: int
    accounting: int
    accounting_grpc: int
    health: int
    health_grpc: int
    fake_upstream: int

    @classmethod
    def dev(cls) -> SystemPorts:
        """The documented dev ports (DESIGN.md: proxy 8080, control 8081)."""
        return cls(8080, 8081, 8082, 50051, 8083, 50052, 8090)

    @classmethod
    def free(cls) -> SystemPorts:
        """Free ports, for tests that run beside a dev system."""
        return cls(*(free_port() for _ in range(7)))

    @classmethod
    def reuse_or_free(cls, path: Path) -> SystemPorts:
        """Last run's ports where they are still free (URLs, and the seeded upstream's address,
        stay valid across restarts), else free ones; remembered in `path`."""
        previous = json.loads(path.read_text()) if path.is_file() else {}
        chosen = {
            name: port if isinstance(port := previous.get(name), int) and port_is_free(port) else free_port()
            for name in cls.__dataclass_fields__
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(chosen))
        return cls(**chosen)

    def busy(self) -> list[str]:
        """Names of the ports something already listens on."""
        return [name for name, port in asdict(self).items() if not port_is_free(port)]


@dataclass(frozen=True)
class SystemSecrets:
    """Secrets the services share; generated once per root and kept in ROOT/secrets.json."""

    key_pepper: str
    dataplane_key: str
    master_key: str
    jwt_secret: str
    internal_token: str
    admin_email: str
    admin_password: str
    upstream_api_key: str

    @classmethod
    def generate(cls) -> SystemSecrets:
        """Fresh random secrets with a dev admin account."""

        def key32() -> str:
            return base64.b64encode(os.urandom(32)).decode()

        return cls(
            key_pepper=secrets.token_urlsafe(32),
            dataplane_key=key32(),
            master_key=key32(),
            jwt_secret=secrets.token_urlsafe(48),
            internal_token=secrets.token_urlsafe(32),
            admin_email="admin@example.com",
            admin_password=secrets.token_urlsafe(12),
            upstream_api_key="sk-fake-upstream-" + secrets.token_hex(8),
        )

    @classmethod
    def load_or_create(cls, path: Path) -> SystemSecrets:
        """Reuse the secrets stored at `path` (a second `make dev` keeps its keys) or create them."""
        if path.is_file():
            return cls(**json.loads(path.read_text()))
        created = cls.generate()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(created), indent=2))
        path.chmod(0o600)
        return created


class GatewaySystem:
    """Starts and stops the services against a running stack."""

    def __init__(
        self,
        root: Path,
        endpoints: StackEndpoints,
        ports: SystemPorts,
        secrets: SystemSecrets,
        *,
        base_env: Mapping[str, str],
        extra_env: Mapping[str, str] | None = None,
    ) -> None:
        self.root = root
        self.endpoints = endpoints
        self.ports = ports
        self.secrets = secrets
        self._base_env = dict(base_env)
        self._extra_env = dict(extra_env or {})
        self.processes: dict[str, ManagedProcess] = {}

    @property
    def proxy_url(self) -> str:
        """Base URL of the OpenAI-compatible API (what OPENAI_BASE_URL points at)."""
        return f"http://{HOST}:{self.ports.proxy}/v1"

    @property
    def control_url(self) -> str:
        """Base URL of the control API."""
        return f"http://{HOST}:{self.ports.control}"

    @property
    def fake_upstream_url(self) -> str:
        """Base URL of the fake OpenAI-compatible upstream."""
        return f"http://{HOST}:{self.ports.fake_upstream}/v1"

    def shared_env(self) -> dict[str, str]:
        """Settings every service receives."""
        s, e, p = self.secrets, self.endpoints, self.ports
        return {
            **self._base_env,
            "DATABASE_URL": e.database_url,
            "REDIS_URL": e.redis_url,
            "NATS_URL": e.nats_url,
            "KEY_PEPPER": s.key_pepper,
            "DATAPLANE_KEY": s.dataplane_key,
            "DATAPLANE_KEY_ID": "dp1",
            "MASTER_KEY": s.master_key,
            "MASTER_KEY_ID": "mk1",
            "JWT_SECRET": s.jwt_secret,
            "INTERNAL_TOKEN": s.internal_token,
            "ADMIN_EMAIL": s.admin_email,
            "ADMIN_PASSWORD": s.admin_password,
            "CONTROL_URL": self.control_url,
            "PROXY_HOST": HOST,
            "PROXY_PORT": str(p.proxy),
            "CONTROL_HOST": HOST,
            "CONTROL_PORT": str(p.control),
            "ACCOUNTING_HOST": HOST,
            "ACCOUNTING_PORT": str(p.accounting),
            "ACCOUNTING_GRPC_PORT": str(p.accounting_grpc),
            "ACCOUNTING_GRPC_TARGET": f"{HOST}:{p.accounting_grpc}",
            "HEALTH_HOST": HOST,
            "HEALTH_PORT": str(p.health),
            "HEALTH_GRPC_PORT": str(p.health_grpc),
            "HEALTH_GRPC_TARGET": f"{HOST}:{p.health_grpc}",
            **self._extra_env,
        }

    def _argv(self, name: str) -> tuple[list[str], int, str]:
        """How to run one process: argv, HTTP port and the path that tells it is alive."""
        py, p = sys.executable, self.ports
        fake = [py, "-m", "gateway_fakes", "openai", "--host", HOST, "--port", str(p.fake_upstream)]
        table = {
            # The fake speaks only the provider's API plus its request log, which doubles as its probe.
            "fake-openai": (
                [*fake, "--api-key", self.secrets.upstream_api_key],
                p.fake_upstream,
                "/_fake/requests",
            ),
            "accounting": ([py, "-m", "gateway_accounting"], p.accounting, "/healthz"),
            "health": ([py, "-m", "gateway_health"], p.health, "/healthz"),
            "control": ([py, "-m", "gateway_control"], p.control, "/healthz"),
            "proxy": ([py, "-m", "gateway_proxy"], p.proxy, "/healthz"),
        }
        return table[name]

    def service_process(self, name: str) -> ManagedProcess:
        """An unstarted ManagedProcess for one service (or `fake-openai`), with the shared settings."""
        argv, port, ready_path = self._argv(name)
        logs = self.root / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        return ManagedProcess(
            name=name,
            argv=argv,
            env={**self.shared_env(), "INSTANCE_ID": name},
            cwd=None,
            log_path=logs / f"{name}.log",
            ready_url=f"http://{HOST}:{port}{ready_path}",
        )

    def readyz_url(self, name: str) -> str:
        """The service's readiness URL."""
        return f"http://{HOST}:{self._argv(name)[1]}/readyz"

    def start(self, timeout: float = 60.0) -> None:
        """Start the fake upstream and the four services; wait until each is ready."""
        try:
            for name in PROCESSES:
                process = self.service_process(name)
                self.processes[name] = process
                process.start()
            for process in self.processes.values():
                process.wait_ready(timeout)
            # Alive is not ready: control bootstraps the admin after its migrations, and the proxy
            # and health wait for control's first config snapshot.
            for name in SERVICES:
                wait_for_ready(self.readyz_url(name), timeout, name=name)
        except BaseException:
            self.stop()
            raise

    def dead(self) -> list[str]:
        """Names of started processes that have exited."""
        return [name for name, proc in self.processes.items() if not proc.is_running()]

    def stop(self) -> None:
        """Stop every process, the proxy first so its pending usage events flush into NATS."""
        for name in reversed(list(self.processes)):
            self.processes[name].stop()
        self.processes.clear()

    def __enter__(self) -> GatewaySystem:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
