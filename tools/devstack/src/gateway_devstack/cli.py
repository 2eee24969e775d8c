"""`python -m gateway_devstack <command>`: a registry of subcommands.

A subcommand is a `Command` (name, help, how to add its arguments, what to run). To add
one, write a module with a `COMMAND = Command(...)` and list it in `COMMANDS` in __main__.py.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Command:
    """One subcommand: `run(args, env)` returns the process exit code."""

    name: str
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace, Mapping[str, str]], int]


def build_parser(commands: Sequence[Command]) -> argparse.ArgumentParser:
    """An argparse parser with one subparser per command."""
    parser = argparse.ArgumentParser(prog="python -m gateway_devstack", description=__doc__)
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in commands:
        sub = subparsers.add_parser(command.name, help=command.help, description=command.help)
        command.add_arguments(sub)
        sub.set_defaults(_run=command.run)
    return parser


def main(argv: Sequence[str] | None, env: Mapping[str, str], commands: Sequence[Command]) -> int:
    """Parse `argv`, run the chosen command with `env`, and return its exit code."""
    args = build_parser(commands).parse_args(argv)
    run: Callable[[argparse.Namespace, Mapping[str, str]], int] = args._run
    return run(args, env)
