"""Rewriting sqlc's query text for a driver and laying it out as a Python literal.

sqlc hands over each query with ``$1``-style placeholders. asyncpg takes them as they are;
psycopg wants ``%(name)s`` (and a literal ``%`` doubled). Rewriting must not touch a ``$1``
or ``%`` that sits in a string literal, quoted identifier, dollar-quoted body or comment,
so the text is scanned once and every character is classified.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from enum import Enum

_PLACEHOLDER = re.compile(r"\$(\d+)")
_DOLLAR_TAG = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)?\$")
_IDENT_CHAR = re.compile(r"[A-Za-z0-9_$]")


class Kind(Enum):
    """What a character of SQL text is part of."""

    CODE = "code"
    QUOTED = "quoted"  # string literal, quoted identifier or dollar-quoted body
    COMMENT = "comment"


def _scan(sql: str) -> Iterator[tuple[int, int, Kind]]:
    """Yield (start, end, kind) spans covering the whole text."""
    i, n, start = 0, len(sql), 0
    while i < n:
        ch = sql[i]
        two = sql[i : i + 2]
        end: int | None = None
        kind = Kind.QUOTED
        if two == "--":
            newline = sql.find("\n", i)
            end, kind = (n if newline < 0 else newline), Kind.COMMENT
        elif two == "/*":
            end, kind = _block_comment_end(sql, i), Kind.COMMENT
        elif ch == "'":
            escapes = i > 0 and sql[i - 1] in "eE" and (i < 2 or not _IDENT_CHAR.match(sql[i - 2]))
            end = _quote_end(sql, i, "'", backslash=escapes)
        elif ch == '"':
            end = _quote_end(sql, i, '"', backslash=False)
        elif ch == "$" and (i == 0 or not _IDENT_CHAR.match(sql[i - 1])):
            tag = _DOLLAR_TAG.match(sql, i)
            if tag is not None:
                close = sql.find(tag.group(0), tag.end())
                end = n if close < 0 else close + len(tag.group(0))
        if end is None:
            i += 1
            continue
        if start < i:
            yield start, i, Kind.CODE
        yield i, end, kind
        i = start = end
    if start < n:
        yield start, n, Kind.CODE


def _quote_end(sql: str, i: int, quote: str, *, backslash: bool) -> int:
    j = i + 1
    while j < len(sql):
        if backslash and sql[j] == "\\":
            j += 2
            continue
        if sql[j] == quote:
            if sql[j + 1 : j + 2] == quote:
                j += 2
                continue
            return j + 1
        j += 1
    return len(sql)


def _block_comment_end(sql: str, i: int) -> int:
    depth, j = 0, i
    while j < len(sql):
        two = sql[j : j + 2]
        if two == "/*":
            depth, j = depth + 1, j + 2
        elif two == "*/":
            depth, j = depth - 1, j + 2
            if depth == 0:
                return j
        else:
            j += 1
    return len(sql)


def classify(sql: str) -> list[Kind]:
    """The kind of every character of ``sql``."""
    kinds: list[Kind] = []
    for start, end, kind in _scan(sql):
        kinds.extend([kind] * (end - start))
    return kinds


def rewrite_placeholders(sql: str, placeholder: Callable[[int], str], *, double_percent: bool) -> str:
    """Replace each ``$n`` in SQL code by ``placeholder(n)``; optionally double every ``%``."""
    parts: list[str] = []
    for start, end, kind in _scan(sql):
        text = sql[start:end]
        if double_percent:
            text = text.replace("%", "%%")
        if kind is Kind.CODE:
            text = _PLACEHOLDER.sub(lambda m: placeholder(int(m.group(1))), text)
        parts.append(text)
    return "".join(parts)


def wrap(sql: str, width: int) -> list[str]:
    """Split SQL into lines of at most ``width`` characters where whitespace allows.

    Only whitespace in SQL code is a break point (never inside a literal or a comment);
    continuation lines get four more spaces of indentation than the line they continue.
    Trailing whitespace in code is dropped. A line with no break point stays long.
    """
    kinds = classify(sql)
    lines: list[str] = []
    offset = 0
    for raw in sql.split("\n"):
        line_kinds = kinds[offset : offset + len(raw)]
        offset += len(raw) + 1
        while line_kinds and raw[-1].isspace() and line_kinds[-1] is Kind.CODE:
            raw, line_kinds = raw[:-1], line_kinds[:-1]
        indent = " " * (len(raw) - len(raw.lstrip(" ")) + 4)
        prefix = ""
        while len(prefix) + len(raw) > width:
            limit = width - len(prefix)
            cut = next(
                (
                    k
                    for k in range(min(limit, len(raw) - 1), 0, -1)
                    if raw[k] == " " and line_kinds[k] is Kind.CODE and raw[:k].strip()
                ),
                None,
            )
            if cut is None:
                break
            lines.append(prefix + raw[:cut].rstrip())
            rest = len(raw) - len(raw[cut:].lstrip(" "))
            raw, line_kinds = raw[rest:], line_kinds[rest:]
            prefix = indent
        lines.append(prefix + raw)
    return lines


def python_literal(sql: str, width: int) -> str:
    """A triple-quoted Python string holding ``sql`` (wrapped to ``width``), starting on its own line."""
    body = "\n".join(wrap(sql.strip("\n"), width))
    body = body.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    return f'"""\n{body}\n"""'
