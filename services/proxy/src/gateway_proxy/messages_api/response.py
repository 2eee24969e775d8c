"""Chat completions answers -> Anthropic Messages answers: the message, its usage, and errors.

Usage: a chat `prompt_tokens` counts every prompt token, while a Messages `input_tokens` leaves
out the tokens read from and written to the prompt cache; so `input_tokens = prompt_tokens -
cached_tokens - cache writes`, with the two cache counts in their own fields. The cache writes
come from `prompt_tokens_details.cache_write_tokens` (or `cache_creation_input_tokens`), which
the gateway's Anthropic and Bedrock adapters fill in.

A finish reason of `stop` becomes `end_turn`: the chat API does not say whether a stop sequence
ended the text, so `stop_sequence` is always null.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import orjson
from gateway_providers import Usage
from gateway_providers.usage import usage_from_payload

Json = dict[str, object]

# chat `finish_reason` -> Messages `stop_reason`.
STOP_REASONS: Final[Mapping[str, str]] = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_calls": "tool_use",
    "function_call": "tool_use",
    "content_filter": "refusal",
}

# HTTP status -> the Messages API's error `type` (its errors reference); others by class.
_ERROR_TYPES: Final[Mapping[int, str]] = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    504: "timeout_error",
    529: "overloaded_error",
}


def stop_reason(finish_reason: object) -> str | None:
    """The Messages `stop_reason` of a chat `finish_reason` (unknown ones end the turn)."""
    if finish_reason is None:
        return None
    return STOP_REASONS.get(finish_reason, "end_turn") if isinstance(finish_reason, str) else "end_turn"


def message_usage(payload: Mapping[str, object]) -> Json:
    """A Messages `usage` object for the chat `usage` in `payload` (zeros when there is none).

    The counts are read by `usage_from_payload`, as the proxy's metering reads them; the cache
    writes, which it does not read, from the Anthropic and Bedrock adapters' extra fields.
    """
    usage = usage_from_payload(payload) or Usage()
    written = _cache_writes(payload.get("usage"))
    cached = usage.cached_prompt_tokens
    return {
        "input_tokens": max(0, usage.prompt_tokens - cached - written),
        "output_tokens": usage.completion_tokens,
        "cache_creation_input_tokens": written,
        "cache_read_input_tokens": cached,
    }


def message_from_completion(completion: Mapping[str, object]) -> Json:
    """The Messages API `message` for a `chat.completion` (its first choice)."""
    choices = completion.get("choices")
    choice = choices[0] if isinstance(choices, list) and choices and isinstance(choices[0], Mapping) else {}
    reply = choice.get("message")
    reply = reply if isinstance(reply, Mapping) else {}
    content: list[Json] = []
    text = reply.get("content")
    if isinstance(text, str) and text:
        content.append({"type": "text", "text": text})
    calls = reply.get("tool_calls")
    for call in calls if isinstance(calls, list) else []:
        block = tool_use_block(call)
        if block is not None:
            block["input"] = tool_input(_arguments(call))
            content.append(block)
    return {
        "id": message_id(completion.get("id")),
        "type": "message",
        "role": "assistant",
        "model": completion.get("model"),
        "content": content,
        "stop_reason": stop_reason(choice.get("finish_reason")) or "end_turn",
        "stop_sequence": None,
        "usage": message_usage(completion),
    }


def tool_use_block(call: object) -> Json | None:
    """A `tool_use` block (without its input) for a chat tool call; None for a malformed one."""
    if not isinstance(call, Mapping):
        return None
    function = call.get("function")
    if not isinstance(function, Mapping):
        return None
    return {"type": "tool_use", "id": call.get("id"), "name": function.get("name"), "input": {}}


def tool_input(arguments: str) -> object:
    """A tool call's JSON-text arguments as an object; text that is not a JSON object is kept whole."""
    if not arguments.strip():
        return {}
    try:
        parsed = orjson.loads(arguments)
    except orjson.JSONDecodeError:
        parsed = None
    return parsed if isinstance(parsed, dict) else {"arguments": arguments}


def message_id(chat_id: object) -> str:
    """A `msg_` id for a chat completion's id (kept when it already is one)."""
    text = chat_id if isinstance(chat_id, str) and chat_id else "unknown"
    return text if text.startswith("msg_") else f"msg_{text}"


def error_body(status: int, message: str, request_id: str | None) -> bytes:
    """The Messages API's error body for `status` and `message`."""
    kind = _ERROR_TYPES.get(status) or ("api_error" if status >= 500 else "invalid_request_error")
    body: Json = {"type": "error", "error": {"type": kind, "message": message}}
    if request_id:
        body["request_id"] = request_id
    return orjson.dumps(body)


def error_message(body: bytes, status: int) -> str:
    """The message of an OpenAI-shaped error body (or a plain one naming the status)."""
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        parsed = None
    error = parsed.get("error") if isinstance(parsed, Mapping) else None
    if isinstance(error, Mapping) and isinstance(error.get("message"), str):
        param = error.get("param")
        message = str(error["message"])
        return f"{param}: {message}" if isinstance(param, str) and not message.startswith(param) else message
    return f"The gateway answered with HTTP {status}."


def _arguments(call: object) -> str:
    function = call.get("function") if isinstance(call, Mapping) else None
    arguments = function.get("arguments") if isinstance(function, Mapping) else None
    return arguments if isinstance(arguments, str) else ""


def _cache_writes(usage: object) -> int:
    if not isinstance(usage, Mapping):
        return 0
    details = usage.get("prompt_tokens_details")
    written = details.get("cache_write_tokens") if isinstance(details, Mapping) else None
    if written is None:
        written = usage.get("cache_creation_input_tokens")
    return written if isinstance(written, int) and not isinstance(written, bool) and written > 0 else 0
