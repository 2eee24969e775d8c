"""Anthropic Messages response -> OpenAI `chat.completion`, and the usage/finish mappings.

Usage: Anthropic's `input_tokens` excludes prompt-cache reads and writes, while OpenAI's
`prompt_tokens` counts every prompt token; so `prompt_tokens = input_tokens +
cache_creation_input_tokens + cache_read_input_tokens`, `cached_tokens` is the cache read,
and the cache write is kept in `Usage.cache_write_prompt_tokens` (and, for clients, in
`prompt_tokens_details.cache_write_tokens` and the top-level Anthropic field names).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import orjson

from gateway_providers.base import Usage

# Messages `stop_reason` -> OpenAI `finish_reason`.
FINISH_REASONS: Final[Mapping[str, str]] = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "pause_turn": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}


def finish_reason(stop_reason: object) -> str:
    """The OpenAI finish_reason for an Anthropic stop_reason (unknown ones end as `stop`)."""
    return FINISH_REASONS.get(stop_reason, "stop") if isinstance(stop_reason, str) else "stop"


def usage_from_anthropic(usage: object) -> Usage | None:
    """Read a Messages `usage` object (None when there is none)."""
    if not isinstance(usage, Mapping):
        return None
    uncached = _count(usage, "input_tokens")
    written = _count(usage, "cache_creation_input_tokens")
    read = _count(usage, "cache_read_input_tokens")
    return Usage(
        prompt_tokens=uncached + written + read,
        completion_tokens=_count(usage, "output_tokens"),
        cached_prompt_tokens=read,
        cache_write_prompt_tokens=written,
    )


def openai_usage(usage: Usage) -> dict[str, object]:
    """An OpenAI `usage` object for `usage`, with the Anthropic cache fields alongside."""
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
        "prompt_tokens_details": {
            "cached_tokens": usage.cached_prompt_tokens,
            "cache_write_tokens": usage.cache_write_prompt_tokens,
        },
        "completion_tokens_details": {"reasoning_tokens": usage.reasoning_tokens},
        "cache_read_input_tokens": usage.cached_prompt_tokens,
        "cache_creation_input_tokens": usage.cache_write_prompt_tokens,
    }


def completion_from_message(
    message: Mapping[str, object], *, created: int, model_alias: str | None
) -> tuple[dict[str, object], Usage | None]:
    """Translate a Messages response into a `chat.completion` object and its usage."""
    texts: list[str] = []
    tool_calls: list[dict[str, object]] = []
    content = message.get("content")
    for block in content if isinstance(content, list) else []:
        if not isinstance(block, Mapping):
            continue
        if block.get("type") == "text" and isinstance(block.get("text"), str):
            texts.append(str(block["text"]))
        elif block.get("type") == "tool_use":
            tool_calls.append(
                {
                    "id": block.get("id"),
                    "type": "function",
                    "function": {
                        "name": block.get("name"),
                        "arguments": orjson.dumps(block.get("input", {})).decode(),
                    },
                }
            )
    reply: dict[str, object] = {
        "role": "assistant",
        "content": "".join(texts) if texts or not tool_calls else None,
        "refusal": None,
    }
    if tool_calls:
        reply["tool_calls"] = tool_calls
    usage = usage_from_anthropic(message.get("usage"))
    completion: dict[str, object] = {
        "id": message.get("id"),
        "object": "chat.completion",
        "created": created,
        "model": model_alias or message.get("model"),
        "choices": [
            {
                "index": 0,
                "message": reply,
                "logprobs": None,
                "finish_reason": finish_reason(message.get("stop_reason")),
            }
        ],
    }
    if usage is not None:
        completion["usage"] = openai_usage(usage)
    return completion, usage


def _count(source: Mapping[str, object], name: str) -> int:
    value = source.get(name)
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0
