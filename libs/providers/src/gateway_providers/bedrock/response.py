"""Converse response -> OpenAI `chat.completion`, and the usage/finish mappings.

Usage: Converse's `inputTokens` excludes prompt-cache reads and writes (as Anthropic's
does), so `prompt_tokens = inputTokens + cacheReadInputTokens + cacheWriteInputTokens`,
`cached_tokens` is the cache read and the write is `Usage.cache_write_prompt_tokens`.
A Converse response names no model and no id: the id comes from `x-amzn-requestid`, and
`model` is the alias when the caller gives one (else empty).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Final

import orjson

from gateway_providers.anthropic.response import openai_usage
from gateway_providers.base import Usage

# Converse `stopReason` -> OpenAI `finish_reason`.
FINISH_REASONS: Final[Mapping[str, str]] = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "guardrail_intervened": "content_filter",
    "content_filtered": "content_filter",
}


def finish_reason(stop_reason: object) -> str:
    """The OpenAI finish_reason for a Converse stopReason (unknown ones end as `stop`)."""
    return FINISH_REASONS.get(stop_reason, "stop") if isinstance(stop_reason, str) else "stop"


def usage_from_converse(usage: object) -> Usage | None:
    """Read a Converse `usage` object (None when there is none)."""
    if not isinstance(usage, Mapping):
        return None
    uncached = _count(usage, "inputTokens")
    read = _count(usage, "cacheReadInputTokens")
    written = _count(usage, "cacheWriteInputTokens")
    return Usage(
        prompt_tokens=uncached + read + written,
        completion_tokens=_count(usage, "outputTokens"),
        cached_prompt_tokens=read,
        cache_write_prompt_tokens=written,
    )


def completion_id(headers: Mapping[str, str]) -> str:
    """`chatcmpl-<AWS request id>`, or a random id when the header is missing."""
    lowered = {key.lower(): value for key, value in headers.items()}
    request_id = lowered.get("x-amzn-requestid") or secrets.token_hex(12)
    return f"chatcmpl-{request_id}"


def completion_from_converse(
    response: Mapping[str, object], *, completion_id: str, created: int, model_alias: str | None
) -> tuple[dict[str, object], Usage | None]:
    """Translate a Converse response into a `chat.completion` object and its usage."""
    output = response.get("output")
    message = output.get("message") if isinstance(output, Mapping) else None
    content = message.get("content") if isinstance(message, Mapping) else None
    texts: list[str] = []
    tool_calls: list[dict[str, object]] = []
    for block in content if isinstance(content, list) else []:
        if not isinstance(block, Mapping):
            continue
        if isinstance(block.get("text"), str):
            texts.append(str(block["text"]))
        tool_use = block.get("toolUse")
        if isinstance(tool_use, Mapping):
            tool_calls.append(
                {
                    "id": tool_use.get("toolUseId"),
                    "type": "function",
                    "function": {
                        "name": tool_use.get("name"),
                        "arguments": orjson.dumps(tool_use.get("input", {})).decode(),
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
    usage = usage_from_converse(response.get("usage"))
    completion: dict[str, object] = {
        "id": completion_id,
        "object": "chat.completion",
        "created": created,
        "model": model_alias or "",
        "choices": [
            {
                "index": 0,
                "message": reply,
                "logprobs": None,
                "finish_reason": finish_reason(response.get("stopReason")),
            }
        ],
    }
    if usage is not None:
        completion["usage"] = openai_usage(usage)
    return completion, usage


def _count(source: Mapping[str, object], name: str) -> int:
    value = source.get(name)
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0
