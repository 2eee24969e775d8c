"""`python -m gateway_control [serve|migrate|rewrap|bootstrap FILE]`.

serve (default): load and check the settings, then run `gateway_control.app:create_app` on
Granian (ASGI interface, uvloop). Granian turns SIGTERM into a lifespan shutdown, so in-flight
requests finish and a pending config snapshot is flushed.
migrate: apply pending migrations once (waiting up to --wait seconds for Postgres) and exit.
rewrap: re-seal every secret at rest under MASTER_KEY (records under MASTER_KEY_PREVIOUS or
another key id) in one transaction; prints the counts as JSON. Idempotent; see
docs/operations.md, "Rotating the master key".
bootstrap FILE: apply a bootstrap file (tenants, admins, keys, providers, models, routes) in one
transaction and publish what changed; prints the changes as JSON. Idempotent; an invalid file
exits with code 2, naming the path in the file, and applies nothing.

A bad or missing setting exits with code 2 and a message naming it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

import psycopg
from gateway_common.logging import configure_logging
from gateway_common.settings import SettingsError
from granian.constants import Interfaces, Loops
from granian.log import LogLevels
from granian.server import Server

from gateway_control.bootstrap.apply import apply_spec
from gateway_control.bootstrap.run import PublishFailedError, bootstrap_deps, publish_result
from gateway_control.bootstrap.spec import BootstrapError, load_spec_file
from gateway_control.database import Database
from gateway_control.migrate import MigrationsFailedError, migrate_with_retry
from gateway_control.security.envelope import EnvelopeCipher
from gateway_control.security.rewrap import RewrapError, rewrap_all
from gateway_control.settings import ControlSettings, load_control_settings

log = logging.getLogger("gateway_control")


def _granian_logging(level: str) -> dict[str, Any]:
    # Granian's own records go through the same JSON formatter as the app's.
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "gateway_common.logging.JsonFormatter", "service": "control"}},
        "handlers": {
            "console": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}
        },
        "loggers": {
            "_granian": {"handlers": ["console"], "level": level.upper(), "propagate": False},
            "granian.access": {"handlers": ["console"], "level": "WARNING", "propagate": False},
        },
        "root": {"handlers": ["console"], "level": level.upper()},
    }


def serve(settings: ControlSettings) -> int:
    """Run the app on Granian until SIGTERM/SIGINT."""
    log.info("starting control", extra={"host": settings.control_host, "port": settings.control_port})
    Server(
        "gateway_control.app:create_app",
        address=settings.control_host,
        port=settings.control_port,
        interface=Interfaces.ASGI,
        factory=True,
        loop=Loops.uvloop,
        workers=1,
        log_level=LogLevels(settings.log_level.lower()),
        log_dictconfig=_granian_logging(settings.log_level),
        log_access=False,
    ).serve()
    return 0


def migrate(settings: ControlSettings, wait_s: float) -> int:
    """Apply pending migrations once; 0 on success, 1 on failure."""
    try:
        applied = asyncio.run(migrate_with_retry(settings, asyncio.Event(), deadline_s=wait_s))
    except (MigrationsFailedError, psycopg.OperationalError) as exc:
        log.error("migrations failed: %s", exc)
        return 1
    log.info("migrations up to date", extra={"applied": applied})
    return 0


async def _rewrap(settings: ControlSettings) -> dict[str, int]:
    envelope = EnvelopeCipher(settings.master_key_id, settings.master_keys)
    async with await psycopg.AsyncConnection.connect(settings.database_url, autocommit=True) as conn:
        return await rewrap_all(conn, envelope)


def rewrap(settings: ControlSettings) -> int:
    """Re-seal every secret at rest under the current master key; 0 on success, 1 on failure."""
    try:
        counts = asyncio.run(_rewrap(settings))
    except (RewrapError, psycopg.Error) as exc:
        log.error("rewrap failed, nothing was changed: %s", exc)
        return 1
    print(json.dumps({"master_key_id": settings.master_key_id, "rewrapped": counts}))
    return 0


async def _bootstrap(settings: ControlSettings, path: Path, wait_s: float) -> int:
    try:
        spec = load_spec_file(path)
    except BootstrapError as exc:
        return _invalid_file(path, exc)
    await migrate_with_retry(settings, asyncio.Event(), deadline_s=wait_s)
    db = Database(settings.database_url, min_size=0, max_size=2)
    await db.open()
    try:
        # The file names environment variables; this process's environment holds their values.
        result = await apply_spec(db, spec, bootstrap_deps(settings, os.environ))
        revision = await publish_result(settings, db, result)
    except BootstrapError as exc:
        return _invalid_file(path, exc)
    except PublishFailedError as exc:
        log.error(
            "bootstrap committed but publishing failed (%s); control publishes the snapshot at its next "
            "start and the proxy reads a missing key record from control",
            exc,
        )
        return 1
    finally:
        await db.close()
    print(json.dumps({"changes": result.changes, "skipped": result.skipped, "revision": revision}))
    return 0


def _invalid_file(path: Path, exc: BootstrapError) -> int:
    for problem in exc.problems:
        print(f"gateway_control: bootstrap {path}: {problem}", file=sys.stderr)
    return 2


def bootstrap(settings: ControlSettings, path: Path, wait_s: float) -> int:
    """Apply a bootstrap file; 0 applied (or nothing to do), 2 invalid file, 1 database/publish failure."""
    try:
        return asyncio.run(_bootstrap(settings, path, wait_s))
    except (MigrationsFailedError, psycopg.Error) as exc:
        log.error("bootstrap failed, nothing was changed: %s", exc)
        return 1


def main(argv: list[str] | None = None) -> int:
    """Parse the command line, load settings, and run the chosen command."""
    parser = argparse.ArgumentParser(prog="python -m gateway_control", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("serve", help="run the control API on Granian (default)")
    migrate_parser = commands.add_parser("migrate", help="apply pending migrations and exit")
    migrate_parser.add_argument("--wait", type=float, default=30.0, help="seconds to wait for Postgres")
    commands.add_parser("rewrap", help="re-seal every secret at rest under MASTER_KEY and exit")
    bootstrap_parser = commands.add_parser("bootstrap", help="apply a bootstrap file (idempotent) and exit")
    bootstrap_parser.add_argument("file", type=Path, help="the YAML bootstrap file")
    bootstrap_parser.add_argument("--wait", type=float, default=30.0, help="seconds to wait for Postgres")
    args = parser.parse_args(argv)
    try:
        settings = load_control_settings()
    except SettingsError as exc:
        print(f"gateway_control: {exc}", file=sys.stderr)
        return 2
    if settings.log_level.lower() not in {level.value for level in LogLevels}:
        print(f"gateway_control: LOG_LEVEL: unknown level {settings.log_level!r}", file=sys.stderr)
        return 2
    configure_logging("control", settings.log_level)
    commands_by_name = {
        "migrate": lambda: migrate(settings, args.wait),
        "rewrap": lambda: rewrap(settings),
        "bootstrap": lambda: bootstrap(settings, args.file, args.wait),
    }
    return commands_by_name.get(args.command, lambda: serve(settings))()


if __name__ == "__main__":
    sys.exit(main())
