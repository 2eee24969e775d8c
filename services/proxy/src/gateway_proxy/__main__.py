"""`python -m gateway_proxy`: check the settings, then run the app on Granian.

Settings are validated here first so a bad or missing one stops the process with a message
naming it (exit code 2) before any worker starts. Granian then runs the ASGI factory
`gateway_proxy.app:create_app` with uvloop, PROXY_WORKERS worker processes (sharing one
directory for their metrics, see metrics.py) and no access log
(request logs carry the request id instead); it turns SIGTERM into a lifespan shutdown, which
finishes in-flight requests and flushes the usage queue.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Final

from gateway_common.logging import configure_logging
from gateway_common.settings import SettingsError, load_settings

from gateway_proxy.settings import ProxySettings

# How Granian serves the proxy's workers; the bench's Granian floor (gateway_bench.floor) too.
SERVER_FLAGS: Final = ("--interface", "asgi", "--loop", "uvloop", "--http", "1", "--no-ws", "--no-access-log")


def granian_argv(settings: ProxySettings) -> list[str]:
    """The Granian command line for these settings."""
    return [
        sys.executable,
        "-m",
        "granian",
        *SERVER_FLAGS,
        "--factory",
        "--host",
        settings.proxy_host,
        "--port",
        str(settings.proxy_port),
        "--workers",
        str(settings.proxy_workers),
        "--log-level",
        settings.log_level.lower(),
        "--workers-kill-timeout",
        str(max(1, round(settings.proxy_shutdown_timeout_s))),
        "gateway_proxy.app:create_app",
    ]


def prepare_multiprocess_metrics(settings: ProxySettings) -> Path | None:
    """An empty directory for the workers' metric files when there are several workers, else None.

    A fresh temporary directory unless PROMETHEUS_MULTIPROC_DIR names one; a named one is emptied,
    because files left by an earlier run would be merged into this run's numbers.
    """
    if settings.proxy_workers == 1 and not settings.prometheus_multiproc_dir:
        return None
    if not settings.prometheus_multiproc_dir:
        return Path(tempfile.mkdtemp(prefix="gateway-proxy-metrics-"))
    directory = Path(settings.prometheus_multiproc_dir)
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink()
    return directory


def main() -> None:
    """Entry point: exit 2 on a bad setting, else replace this process with Granian."""
    try:
        settings = load_settings(ProxySettings)
    except SettingsError as exc:
        print(f"gateway_proxy: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    configure_logging(settings.service_name, settings.log_level)
    metrics_dir = prepare_multiprocess_metrics(settings)
    if metrics_dir is not None:
        # Read by prometheus_client when each worker imports it, and by ProxySettings.
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    argv = granian_argv(settings)
    # Replace this process so Granian gets SIGTERM directly from the supervisor.
    os.execv(argv[0], argv)  # noqa: S606


if __name__ == "__main__":
    main()
