"""The processes of one bench run: nginx, Valkey, NATS and the proxy, each pinned to a core.

The proxy is ONE Granian worker alone on `PROXY_CORE`; nginx, Valkey, NATS and wrk share
`LOAD_CORE`. Everything is started here and stopped by `BenchStack.stop`, in reverse order.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import httpx
from gateway_devstack.nats_server import NatsServer
from gateway_devstack.procs import ManagedProcess, child_pids, free_port
from gateway_devstack.valkey import ValkeyServer

from gateway_bench.seed import Secrets, new_secrets, seed_sync
from gateway_bench.upstream import ensure_tools, nginx_config

PROXY_CORE: Final = 0
LOAD_CORE: Final = 1


def rss_bytes(pid: int) -> int:
    """Resident set size of `pid`, from /proc (VmRSS is in kB)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


def _wait_port(port: int, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port} after {timeout_s}s")


@dataclass
class BenchStack:
    """Started servers and the URLs and key the scenarios use."""

    root: Path
    secrets: Secrets = field(default_factory=new_secrets)
    upstream_port: int = field(default_factory=free_port)
    proxy_port: int = field(default_factory=free_port)
    nginx: ManagedProcess | None = None
    valkey: ValkeyServer | None = None
    nats: NatsServer | None = None
    proxy: ManagedProcess | None = None

    @property
    def upstream_base(self) -> str:
        return f"http://127.0.0.1:{self.upstream_port}"

    @property
    def proxy_base(self) -> str:
        return f"http://127.0.0.1:{self.proxy_port}"

    def start(self) -> None:
        """Install tools if needed, start everything, seed config and key, wait until ready."""
        ensure_tools()
        self.nginx = start_nginx(self.root, self.upstream_port)
        self.valkey = ValkeyServer(
            port=free_port(),
            data_dir=self.root / "valkey",
            log_path=self.root / "valkey.log",
            start_timeout=20,
            stop_timeout=10,
        )
        self.nats = NatsServer(
            port=free_port(),
            monitor_port=free_port(),
            store_dir=self.root / "nats",
            log_path=self.root / "nats.log",
            start_timeout=20,
            stop_timeout=10,
        )
        for server in (self.valkey, self.nats):
            server.start(choose_ports=True)
            if server.pid is not None:
                os.sched_setaffinity(server.pid, {LOAD_CORE})
        seed_sync(self.valkey.url, self.nats.url, self.upstream_base, self.secrets)
        self._start_proxy()

    def proxy_env(self) -> dict[str, str]:
        """The proxy's environment: this stack's Valkey, NATS and secrets, one worker, from
        bytecode (also what `app_alone` runs the app with)."""
        assert self.valkey is not None
        assert self.nats is not None
        env = {
            **os.environ,
            "REDIS_URL": self.valkey.url,
            "NATS_URL": self.nats.url,
            "KEY_PEPPER": self.secrets.pepper,
            "DATAPLANE_KEY": self.secrets.dataplane_key,
            "DATAPLANE_KEY_ID": "dp1",
            "PROXY_HOST": "127.0.0.1",
            "PROXY_PORT": str(self.proxy_port),
            "PROXY_WORKERS": "1",
            "LOG_LEVEL": "WARNING",
            "INSTANCE_ID": "proxy-bench",
            # The failover scenario measures the cost of failing over on every request: keep the
            # refused deployment's breaker from opening (which would skip it instead).
            "BREAKER_CONSECUTIVE_FAILURES": "1000000000",
            "BREAKER_MIN_REQUESTS": "1000000000",
        }
        env.pop("GATEWAY_CONFIG_FILE", None)
        return bytecode_env(env, self.root / "pycache", "gateway_proxy.app")

    def _start_proxy(self) -> None:
        env = self.proxy_env()
        self.proxy = ManagedProcess(
            "proxy",
            ["taskset", "-c", str(PROXY_CORE), sys.executable, "-m", "gateway_proxy"],
            env,
            cwd=self.root,
            log_path=self.root / "proxy.log",
            ready_url=f"{self.proxy_base}/healthz",
        )
        self.proxy.start()
        self.proxy.wait_ready(timeout=60)
        deadline = time.monotonic() + 30
        while httpx.get(f"{self.proxy_base}/readyz", timeout=2).status_code != 200:
            if time.monotonic() > deadline:
                raise RuntimeError(f"proxy not ready:\n{self.proxy.log_tail()}")
            time.sleep(0.1)

    def worker_pid(self) -> int:
        """The Granian worker process (the only child of the proxy's main process)."""
        assert self.proxy is not None
        assert self.proxy.pid is not None
        children = child_pids(self.proxy.pid)
        if len(children) != 1:
            raise RuntimeError(f"expected one Granian worker, found {len(children)}")
        return children[0]

    def stop(self) -> None:
        """Stop whatever was started, newest first."""
        if self.proxy is not None:
            self.proxy.stop()
        for server in (self.nats, self.valkey):
            if server is not None:
                server.stop()
        if self.nginx is not None:
            self.nginx.stop()


def start_nginx(root: Path, port: int) -> ManagedProcess:
    """The canned upstream (`upstream.py`) on `port`, pinned to `LOAD_CORE`, its files under `root`."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "nginx.conf").write_text(nginx_config(root, port))
    nginx = ManagedProcess(
        "nginx",
        ["taskset", "-c", str(LOAD_CORE), "nginx", "-p", str(root), "-c", "nginx.conf"],
        dict(os.environ),
        cwd=root,
        log_path=root / "nginx.log",
        ready_url=None,
    )
    nginx.start()
    _wait_port(port)
    return nginx


def bytecode_env(env: dict[str, str], directory: Path, module: str) -> dict[str, str]:
    """`env` for running `module` from compiled bytecode, as the proxy's image does
    (`UV_COMPILE_BYTECODE=1`).

    The dev venv has no .pyc files (`PYTHONDONTWRITEBYTECODE=1` on these machines), so a worker
    would compile every module at import and keep the compiler's garbage in its heap: ≈10 MiB of
    RSS the image does not have. The .pyc files go under `directory` (`PYTHONPYCACHEPREFIX`; the
    venv is left untouched), written by one import of `module` before the server starts.
    """
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(directory.resolve())
    subprocess.run([sys.executable, "-c", f"import {module}, granian"], env=env, check=True)
    return env
