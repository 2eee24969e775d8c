"""`python -m gateway_proxy`: check the settings, then run the app on Granian.

Settings are validated here first so a bad or missing one stops the process with a message
naming it (exit code 2) before any worker starts. Granian then runs the ASGI factory
`gateway_proxy.app:create_app` with uvloop, PROXY_WORKERS worker processes and no access log
(request logs carry the request id instead); it turns SIGTERM into a lifespan shutdown, which
finishes in-flight requests and flushes the usage queue.
"""

from __future__ import annotations

import os
import sys

from gateway_common.logging import configure_logging
from gateway_common.settings import SettingsError, load_settings

from gateway_proxy.settings import ProxySettings


def granian_argv(settings: ProxySettings) -> list[str]:
    """The Granian command line for these settings."""
    return [
        sys.executable,
        "-m",
        "granian",
        "--interface",
        "asgi",
        "--factory",
        "--loop",
        "uvloop",
        "--http",
        "1",
        "--no-ws",
        "--host",
        settings.proxy_host,
        "--port",
        str(settings.proxy_port),
        "--workers",
        str(settings.proxy_workers),
        "--no-access-log",
        "--log-level",
        settings.log_level.lower(),
        "--workers-kill-timeout",
        str(max(1, round(settings.proxy_shutdown_timeout_s))),
        "gateway_proxy.app:create_app",
    ]


def main() -> None:
    """Entry point: exit 2 on a bad setting, else replace this process with Granian."""
    try:
        settings = load_settings(ProxySettings)
    except SettingsError as exc:
        print(f"gateway_proxy: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    configure_logging(settings.service_name, settings.log_level)
    argv = granian_argv(settings)
    # Replace this process so Granian gets SIGTERM directly from the supervisor.
    os.execv(argv[0], argv)  # noqa: S606


if __name__ == "__main__":
    main()
