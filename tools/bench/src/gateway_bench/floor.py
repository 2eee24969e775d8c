"""The Granian floor: a minimal ASGI app (`floor_app.py`) on Granian, run like the proxy.

Same Granian flags as the proxy (`gateway_proxy.__main__.SERVER_FLAGS`), one worker, pinned to
`PROXY_CORE`, from the same bytecode cache. What it costs per request is what Granian and the
event loop cost any Python app on this machine: thread hand-offs, the HTTP/1.1 parsing, the
ASGI messages. The bench measures it in the same run as the proxy, so the proxy's figures can be
read as a ratio to it, whatever the machine's speed.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from gateway_devstack.procs import ManagedProcess
from gateway_proxy.__main__ import SERVER_FLAGS

from gateway_bench.stack import PROXY_CORE, bytecode_env


def start_floor(root: Path, port: int) -> ManagedProcess:
    """Start the floor app on `port` (answers any path, so `/healthz` is its readiness URL)."""
    root.mkdir(parents=True, exist_ok=True)
    argv = [
        "taskset", "-c", str(PROXY_CORE),
        sys.executable, "-m", "granian", *SERVER_FLAGS,
        "--host", "127.0.0.1", "--port", str(port), "--workers", "1", "--log-level", "warning",
        "gateway_bench.floor_app:app",
    ]  # fmt: skip
    floor = ManagedProcess(
        "granian-floor",
        argv,
        bytecode_env(dict(os.environ), root / "pycache", "gateway_bench.floor_app"),
        cwd=root,
        log_path=root / "floor.log",
        ready_url=f"http://127.0.0.1:{port}/healthz",
    )
    floor.start()
    floor.wait_ready(timeout=30)
    return floor
