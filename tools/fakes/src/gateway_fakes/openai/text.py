"""Deterministic content: replies, token counts, chunking and schema-shaped JSON."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

_WORD = re.compile(r"\s*\S+\s*")


def count_tokens(text: str) -> int:
    """Tokens are whitespace-separated words: simple, stable and easy to assert on."""
    return len(text.split())


def content_text(content: object) -> str:
    """The text of a message `content`: a string, or the `text` parts of a parts list."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = [part.get("text") for part in content if isinstance(part, dict)]
        return " ".join(text for text in texts if isinstance(text, str))
    return ""


def split_words(text: str) -> list[str]:
    """Split into word-sized pieces whose concatenation is exactly `text`."""
    pieces = _WORD.findall(text)
    if not pieces:
        return [text]
    consumed = sum(len(piece) for piece in pieces)
    pieces[-1] += text[consumed:]
    return pieces


def split_evenly(text: str, parts: int) -> list[str]:
    """Split into `parts` pieces of near-equal length (at least one, at most len(text))."""
    parts = max(1, min(parts, len(text)))
    size, extra = divmod(len(text), parts)
    pieces, start = [], 0
    for index in range(parts):
        end = start + size + (1 if index < extra else 0)
        pieces.append(text[start:end])
        start = end
    return pieces


def truncate_words(text: str, limit: int | None) -> tuple[str, bool]:
    """Keep the first `limit` words; returns the text and whether it was cut."""
    if limit is None or count_tokens(text) <= limit:
        return text, False
    return "".join(split_words(text)[:limit]).rstrip(), True


def fill_schema(schema: object, text: str) -> object:
    """A value that satisfies a simple JSON schema, with `text` in every string slot."""
    if not isinstance(schema, Mapping):
        return text
    kind = schema.get("type")
    if isinstance(kind, Sequence) and not isinstance(kind, str):
        kind = next((k for k in kind if k != "null"), "string")
    if "enum" in schema and isinstance(schema["enum"], list) and schema["enum"]:
        return schema["enum"][0]
    if kind == "object" or "properties" in schema:
        properties = schema.get("properties")
        if not isinstance(properties, Mapping):
            return {}
        return {name: fill_schema(sub, text) for name, sub in properties.items()}
    if kind == "array":
        return [fill_schema(schema.get("items"), text)]
    if kind in ("integer", "number"):
        return 1
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    return text
