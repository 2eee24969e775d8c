"""Reading deploy/compose.yaml: YAML (merge keys included) and Compose variable interpolation."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

_VARIABLE = re.compile(r"\$(?:\$|\{(?P<braced>[^}]+)\}|(?P<plain>[A-Za-z_][A-Za-z0-9_]*))")
_EXPRESSION = re.compile(r"^(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>.*))?$")


class InterpolationError(ValueError):
    """A required variable (`${NAME:?message}`) is unset, or an expression is malformed."""


def read_env_file(path: Path) -> dict[str, str]:
    """A dotenv file as Compose reads it: NAME=value lines, # comments, optional quotes."""
    values: dict[str, str] = {}
    for line in path.read_text().splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        name, sep, value = stripped.partition("=")
        if not sep:
            raise InterpolationError(f"{path}: not NAME=value: {line!r}")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        values[name.strip()] = value
    return values


def variables(text: str) -> set[str]:
    """The variable names a text interpolates."""
    names: set[str] = set()
    for match in _VARIABLE.finditer(text):
        expression = match.group("braced") or match.group("plain")
        if expression:
            parsed = _EXPRESSION.match(expression)
            if parsed is None:
                raise InterpolationError(f"malformed ${{{expression}}}")
            names.add(parsed.group("name"))
    return names


def interpolate(value: Any, env: dict[str, str]) -> Any:
    """Compose's interpolation (`$NAME`, `${NAME}`, `:-`, `-`, `:?`, `?`, `:+`, `+`, `$$`), recursively."""
    if isinstance(value, dict):
        return {key: interpolate(item, env) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, env) for item in value]
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match[str]) -> str:
        expression = match.group("braced") or match.group("plain")
        if expression is None:
            return "$"
        parsed = _EXPRESSION.match(expression)
        if parsed is None:
            raise InterpolationError(f"malformed ${{{expression}}}")
        name, op, arg = parsed.group("name"), parsed.group("op"), parsed.group("arg") or ""
        current = env.get(name)
        empty = current is None or (current == "" and op is not None and op.startswith(":"))
        if op in (":-", "-"):
            return arg if empty else str(current)
        if op in (":?", "?"):
            if empty:
                raise InterpolationError(f"{name}: {arg}")
            return str(current)
        if op in (":+", "+"):
            return "" if empty else arg
        return current or ""

    return _VARIABLE.sub(substitute, value)
