"""Python names for SQL things: functions, classes, fields, constants."""

from __future__ import annotations

import keyword
import re

_WORD_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_NOT_IDENTIFIER = re.compile(r"[^0-9a-zA-Z_]+")


def snake_case(name: str) -> str:
    """``GetApiKeyByDigest`` -> ``get_api_key_by_digest``; SQL names pass through lower-cased."""
    words = _WORD_BOUNDARY.sub("_", name)
    cleaned = _NOT_IDENTIFIER.sub("_", words).strip("_").lower()
    return cleaned or "_"


def pascal_case(name: str) -> str:
    """``api_keys`` -> ``ApiKeys``."""
    return "".join(part[:1].upper() + part[1:] for part in snake_case(name).split("_") if part)


def singular(table_name: str) -> str:
    """The singular of a table name's last word (``api_keys`` -> ``api_key``), for class names."""
    head, _, last = table_name.rpartition("_")
    if last.endswith("ies") and len(last) > 3:
        last = last[:-3] + "y"
    elif last.endswith("sses"):
        last = last[:-2]
    elif last.endswith("s") and not last.endswith(("ss", "us", "is")):
        last = last[:-1]
    return f"{head}_{last}" if head else last


def identifier(name: str, reserved: frozenset[str] = frozenset()) -> str:
    """A safe Python identifier for a column or parameter name (keywords get a trailing ``_``)."""
    result = snake_case(name)
    if result[0].isdigit():
        result = f"_{result}"
    while keyword.iskeyword(result) or result in reserved:
        result = f"{result}_"
    return result


def unique(names: list[str]) -> list[str]:
    """Make names unique by suffixing repeats with ``_2``, ``_3``... in order of appearance."""
    taken: set[str] = set()
    result: list[str] = []
    for name in names:
        candidate, count = name, 1
        while candidate in taken:
            count += 1
            candidate = f"{name}_{count}"
        taken.add(candidate)
        result.append(candidate)
    return result
