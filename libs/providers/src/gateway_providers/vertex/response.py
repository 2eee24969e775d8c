"""Gemini `GenerateContentResponse` -> OpenAI chat completion pieces: choices, finish, usage, errors.

Usage: `promptTokenCount` already includes `cachedContentTokenCount`; thinking tokens
(`thoughtsTokenCount`) are billed as output, so `completion_tokens = candidatesTokenCount +
thoughtsTokenCount` with the thoughts as `reasoning_tokens`. Gemini gives function calls
no id: each gets `call_<index>_<name>`, and a `tool` message maps back to the name through
the assistant message that carried the call.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import orjson

from gateway_providers.base import ProviderError, Usage
from gateway_providers.errors import error_from_response

FINISH_REASONS: Final[Mapping[str, str]] = {
    "STOP": "stop",
    "MAX_TOKENS": "length",
    "SAFETY": "content_filter",
    "RECITATION": "content_filter",
    "BLOCKLIST": "content_filter",
    "PROHIBITED_CONTENT": "content_filter",
    "SPII": "content_filter",
    "IMAGE_SAFETY": "content_filter",
}


def finish_reason(reason: object, has_calls: bool) -> str:
    """The OpenAI finish_reason (a turn that called functions ends as `tool_calls`)."""
    if has_calls:
        return "tool_calls"
    return FINISH_REASONS.get(reason, "stop") if isinstance(reason, str) else "stop"


def usage_from_gemini(metadata: object) -> Usage | None:
    """Read `usageMetadata` (None when absent)."""
    if not isinstance(metadata, Mapping):
        return None
    thoughts = _count(metadata, "thoughtsTokenCount")
    return Usage(
        prompt_tokens=_count(metadata, "promptTokenCount"),
        completion_tokens=_count(metadata, "candidatesTokenCount") + thoughts,
        cached_prompt_tokens=_count(metadata, "cachedContentTokenCount"),
        reasoning_tokens=thoughts,
    )


def openai_usage(usage: Usage) -> dict[str, object]:
    """An OpenAI `usage` object."""
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
        "prompt_tokens_details": {"cached_tokens": usage.cached_prompt_tokens},
        "completion_tokens_details": {"reasoning_tokens": usage.reasoning_tokens},
    }


def candidate_parts(candidate: Mapping[str, object]) -> tuple[list[str], list[tuple[str, object]]]:
    """(texts, function calls as (name, args)) of one candidate; thought parts are skipped."""
    content = candidate.get("content")
    parts = content.get("parts") if isinstance(content, Mapping) else None
    texts: list[str] = []
    calls: list[tuple[str, object]] = []
    for part in parts if isinstance(parts, list) else []:
        if not isinstance(part, Mapping) or part.get("thought") is True:
            continue
        if isinstance(part.get("text"), str):
            texts.append(str(part["text"]))
        call = part.get("functionCall")
        if isinstance(call, Mapping):
            calls.append((str(call.get("name")), call.get("args", {})))
    return texts, calls


def tool_call(index: int, name: str, args: object) -> dict[str, object]:
    """An OpenAI tool call for a Gemini function call (ids are synthesised: Gemini has none)."""
    return {
        "id": f"call_{index}_{name}",
        "type": "function",
        "function": {"name": name, "arguments": orjson.dumps(args).decode()},
    }


def completion_from_gemini(
    response: Mapping[str, object], *, created: int, model_alias: str | None
) -> tuple[dict[str, object], Usage | None]:
    """Translate a `GenerateContentResponse` into a `chat.completion` and its usage."""
    choices: list[dict[str, object]] = []
    candidates = response.get("candidates")
    for position, candidate in enumerate(candidates if isinstance(candidates, list) else []):
        if not isinstance(candidate, Mapping):
            continue
        texts, calls = candidate_parts(candidate)
        message: dict[str, object] = {
            "role": "assistant",
            "content": "".join(texts) if texts or not calls else None,
            "refusal": None,
        }
        if calls:
            message["tool_calls"] = [tool_call(i, name, args) for i, (name, args) in enumerate(calls)]
        index = candidate.get("index", position)
        choices.append(
            {
                "index": index if isinstance(index, int) else position,
                "message": message,
                "logprobs": None,
                "finish_reason": finish_reason(candidate.get("finishReason"), bool(calls)),
            }
        )
    usage = usage_from_gemini(response.get("usageMetadata"))
    completion: dict[str, object] = {
        "id": f"chatcmpl-{response.get('responseId') or 'gemini'}",
        "object": "chat.completion",
        "created": created,
        "model": model_alias or response.get("modelVersion") or "",
        "choices": choices,
    }
    if usage is not None:
        completion["usage"] = openai_usage(usage)
    return completion, usage


def error_from_google(status: int, headers: Mapping[str, str], body: bytes) -> ProviderError:
    """Google's `{"error": {"code", "message", "status"}}` -> `ProviderError` (code = the status name).

    A 429's back-off comes from the `google.rpc.RetryInfo` detail's `retryDelay` (`"30s"`).
    """
    message, status_name, retry_delay = None, None, None
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        parsed = None
    error = parsed.get("error") if isinstance(parsed, dict) else None
    if isinstance(error, dict):
        message = error.get("message") if isinstance(error.get("message"), str) else None
        status_name = error.get("status") if isinstance(error.get("status"), str) else None
        retry_delay = _retry_delay(error.get("details"))
    openai_body = orjson.dumps(
        {"error": {"message": message, "type": None, "code": status_name, "param": None}}
    )
    return error_from_response(status, headers, openai_body, retry_after_hint=retry_delay)


def _retry_delay(details: object) -> float | None:
    for detail in details if isinstance(details, list) else []:
        if not isinstance(detail, Mapping) or not str(detail.get("@type", "")).endswith("rpc.RetryInfo"):
            continue
        delay = detail.get("retryDelay")
        if isinstance(delay, str) and delay.endswith("s"):
            try:
                return max(0.0, float(delay[:-1]))
            except ValueError:
                return None
    return None


def _count(source: Mapping[str, object], name: str) -> int:
    value = source.get(name)
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0
