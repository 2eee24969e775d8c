"""`python -m gateway_health`: check the settings, then hand the process over to Granian.

The settings are loaded here first so a bad one stops the service at once with a message naming
it (exit code 2) instead of a crash inside a worker. Granian then serves the ASGI factory with
exactly one worker: the prober schedules every deployment itself, and a second worker would
share this replica's lease holder name and probe everything twice. Scale out with replicas (the
KV leases of lease.py split the deployments between them). Granian turns SIGTERM into the
lifespan shutdown, which drains.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from gateway_common.settings import SettingsError, load_settings

from gateway_health.settings import HealthSettings

EXIT_BAD_SETTINGS = 2


def granian_argv(settings: HealthSettings) -> list[str]:
    """The Granian command line that serves the app for `settings`."""
    granian = Path(sys.executable).with_name("granian")
    return [
        str(granian),
        "--interface",
        "asgi",
        "--factory",
        "--workers",
        "1",
        "--loop",
        "uvloop",
        "--host",
        settings.health_host,
        "--port",
        str(settings.health_port),
        "--no-access-log",
        "gateway_health.app:create_app",
    ]


def main() -> None:
    """Entry point: validate settings (exit 2 when bad), then exec Granian."""
    try:
        settings = load_settings(HealthSettings)
    except SettingsError as exc:
        print(f"gateway_health: {exc}", file=sys.stderr)
        sys.exit(EXIT_BAD_SETTINGS)
    argv = granian_argv(settings)
    # A fixed argv without a shell; the process becomes Granian, so SIGTERM reaches it directly.
    os.execv(argv[0], argv)  # noqa: S606


if __name__ == "__main__":
    main()
