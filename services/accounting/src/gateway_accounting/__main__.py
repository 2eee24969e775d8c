"""`python -m gateway_accounting`: check the settings, then serve the app on Granian.

Exactly one Granian worker: the worker also binds the gRPC port, which only one process can
hold. Scale accounting with replicas (they share the durable JetStream consumer), not workers.
A bad setting exits with code 2 and a message naming it.
"""

from __future__ import annotations

import os
import sys

from gateway_common.logging import configure_logging
from gateway_common.settings import SettingsError, load_settings

from gateway_accounting.settings import AccountingSettings


def granian_argv(settings: AccountingSettings) -> list[str]:
    """The command line that serves `gateway_accounting.app:create_app` with these settings."""
    return [
        sys.executable,
        "-m",
        "granian",
        "--interface",
        "asgi",
        "--factory",
        "--workers",
        "1",
        "--loop",
        "uvloop",
        "--host",
        settings.accounting_host,
        "--port",
        str(settings.accounting_port),
        "--no-access-log",
        "--log-level",
        settings.log_level.lower(),
        "gateway_accounting.app:create_app",
    ]


def main() -> None:
    """Validate settings, configure logging and replace this process with Granian."""
    try:
        settings = load_settings(AccountingSettings)
    except SettingsError as exc:
        print(f"accounting: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    configure_logging("accounting", settings.log_level)
    argv = granian_argv(settings)
    # exec keeps one process: SIGTERM from the orchestrator reaches Granian directly.
    os.execv(argv[0], argv)  # noqa: S606 -- a fixed argv, no shell involved


if __name__ == "__main__":
    main()
