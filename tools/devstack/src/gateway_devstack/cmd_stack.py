"""`python -m gateway_devstack stack --root DIR`: run the stack in the foreground until Ctrl-C."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Mapping
from pathlib import Path

from gateway_devstack.cli import Command
from gateway_devstack.errors import DevStackError
from gateway_devstack.settings import StackSettings
from gateway_devstack.signals import exit_on_termination
from gateway_devstack.stack import start_stack

_WATCH_INTERVAL = 0.5


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--root", type=Path, default=Path(".run/dev"), help="data, logs and stack.json")


def _run(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    settings = StackSettings.from_env(args.root, env)
    try:
        with exit_on_termination(), start_stack(settings) as stack:
            endpoints = stack.endpoints
            print(f"DATABASE_URL={endpoints.database_url}", flush=True)
            print(f"REDIS_URL={endpoints.redis_url}", flush=True)
            print(f"NATS_URL={endpoints.nats_url}", flush=True)
            print(f"stack running under {settings.root}; Ctrl-C to stop", file=sys.stderr, flush=True)
            while not (dead := stack.dead_servers()):
                time.sleep(_WATCH_INTERVAL)
            print(f"stopping: {', '.join(dead)} exited; see {settings.root}/logs", file=sys.stderr)
            return 1
    except KeyboardInterrupt:
        print("stopped", file=sys.stderr)
        return 130
    except DevStackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


COMMAND = Command(
    name="stack",
    help="run embedded Postgres, Valkey and NATS in the foreground until Ctrl-C; print their URLs",
    add_arguments=_add_arguments,
    run=_run,
)
