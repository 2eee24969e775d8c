"""`POST /v1/chat/completions`: text replies, tool calls, JSON mode, and streaming.

The reply is `echo: <last user message>` (or `x-fake-content`). With `tools` (and a
`tool_choice` other than `none`) the reply is a call to the chosen tool with arguments
shaped by its JSON schema; once the conversation ends with a `tool` message the reply
is `echo: <tool result>`, so an agent loop terminates.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

import orjson
from starlette.responses import Response

from gateway_fakes.openai.call import FakeCall, sse_response
from gateway_fakes.openai.errors import invalid_request
from gateway_fakes.openai.shapes import (
    SYSTEM_FINGERPRINT,
    int_field,
    new_id,
    stream_pieces,
    usage_object,
    wants_stream_usage,
)
from gateway_fakes.openai.text import content_text, count_tokens, fill_schema, truncate_words

_TOOL_ARGUMENT_PARTS = 4


@dataclass(frozen=True, slots=True)
class ToolCall:
    """The single function call the fake makes."""

    id: str
    name: str
    arguments: str


@dataclass(frozen=True, slots=True)
class ChatPlan:
    """What to answer, decided once and rendered either whole or as a stream."""

    content: str | None
    tool_call: ToolCall | None
    finish_reason: str
    choices: int
    usage: dict[str, object]


async def chat_completions(call: FakeCall) -> Response:
    """Answer a chat completion, streamed when `stream` is true."""
    messages = call.body.get("messages")
    if not call.model:
        return invalid_request("you must provide a model parameter")
    if not isinstance(messages, list) or not messages or not all(isinstance(m, dict) for m in messages):
        return invalid_request(
            "Missing required parameter: 'messages'.", param="messages", code="missing_required_parameter"
        )
    plan = _plan(call, messages)
    if call.body.get("stream") is True:
        return sse_response(call, _chunks(call, plan))
    return Response(orjson.dumps(_completion(call, plan)), media_type="application/json")


def _plan(call: FakeCall, messages: list[dict[str, object]]) -> ChatPlan:
    body, faults = call.body, call.faults
    last = messages[-1]
    user_text = next(
        (content_text(m.get("content")) for m in reversed(messages) if m.get("role") == "user"), ""
    )
    prompt_tokens = sum(count_tokens(content_text(m.get("content"))) for m in messages)
    choices = int_field(body, "n") or 1
    tool = _chosen_tool(body) if last.get("role") != "tool" else None
    if tool is not None:
        name, parameters = tool
        arguments = orjson.dumps(fill_schema(parameters, user_text)).decode()
        tool_call = ToolCall(new_id("call_"), name, arguments)
        completion = count_tokens(arguments)
        content, finish = None, "tool_calls"
    else:
        tool_call = None
        source = content_text(last.get("content")) if last.get("role") == "tool" else user_text
        content, finish = _reply_text(body, faults.content or f"echo: {source}")
        completion = count_tokens(content)
    completion += faults.reasoning_tokens
    usage = usage_object(
        prompt_tokens,
        completion * choices,
        cached=min(faults.cached_tokens, prompt_tokens),
        reasoning=faults.reasoning_tokens * choices,
    )
    return ChatPlan(content, tool_call, finish, choices, usage)


def _reply_text(body: Mapping[str, object], text: str) -> tuple[str, str]:
    """Apply response_format (JSON modes) or max tokens; returns (content, finish_reason)."""
    response_format = body.get("response_format")
    if isinstance(response_format, Mapping):
        kind = response_format.get("type")
        if kind == "json_object":
            return orjson.dumps({"reply": text}).decode(), "stop"
        if kind == "json_schema":
            spec = response_format.get("json_schema")
            schema = spec.get("schema") if isinstance(spec, Mapping) else None
            return orjson.dumps(fill_schema(schema, text)).decode(), "stop"
    content, cut = truncate_words(text, int_field(body, "max_completion_tokens", "max_tokens"))
    return content, "length" if cut else "stop"


def _chosen_tool(body: Mapping[str, object]) -> tuple[str, object] | None:
    """(name, parameters schema) of the function to call, or None when no call is due."""
    tools = body.get("tools")
    choice = body.get("tool_choice")
    if not isinstance(tools, list) or not tools or choice == "none":
        return None
    functions = [t["function"] for t in tools if isinstance(t, dict) and isinstance(t.get("function"), dict)]
    wanted = None
    if isinstance(choice, Mapping) and isinstance(choice.get("function"), Mapping):
        wanted = choice["function"].get("name")
    for function in functions:
        if wanted is None or function.get("name") == wanted:
            return str(function.get("name", "")), function.get("parameters")
    return None


def _message(plan: ChatPlan) -> dict[str, object]:
    message: dict[str, object] = {
        "role": "assistant",
        "content": plan.content,
        "refusal": None,
        "annotations": [],
    }
    if plan.tool_call is not None:
        call = plan.tool_call
        message["tool_calls"] = [
            {"id": call.id, "type": "function", "function": {"name": call.name, "arguments": call.arguments}}
        ]
    return message


def _completion(call: FakeCall, plan: ChatPlan) -> dict[str, object]:
    return {
        "id": new_id("chatcmpl-"),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": call.model,
        "choices": [
            {"index": index, "message": _message(plan), "logprobs": None, "finish_reason": plan.finish_reason}
            for index in range(plan.choices)
        ],
        "usage": plan.usage,
        "service_tier": "default",
        "system_fingerprint": SYSTEM_FINGERPRINT,
    }


def _chunks(call: FakeCall, plan: ChatPlan) -> list[dict[str, object]]:
    """The chunk sequence OpenAI sends: role, deltas, finish, then the optional usage chunk."""
    include_usage = wants_stream_usage(call.body)
    envelope: dict[str, object] = {
        "id": new_id("chatcmpl-"),
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": call.model,
        "service_tier": "default",
        "system_fingerprint": SYSTEM_FINGERPRINT,
    }
    if include_usage:
        envelope["usage"] = None

    def chunk(delta: dict[str, object], finish_reason: str | None = None) -> dict[str, object]:
        choices = [
            {"index": index, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
            for index in range(plan.choices)
        ]
        return {**envelope, "choices": choices}

    chunks: list[dict[str, object]]
    if plan.tool_call is not None:
        tool = plan.tool_call
        opening = {
            "index": 0,
            "id": tool.id,
            "type": "function",
            "function": {"name": tool.name, "arguments": ""},
        }
        chunks = [chunk({"role": "assistant", "content": None, "tool_calls": [opening], "refusal": None})]
        chunks += [
            chunk({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]})
            for piece in stream_pieces(tool.arguments, call.faults, _TOOL_ARGUMENT_PARTS)
        ]
    else:
        chunks = [chunk({"role": "assistant", "content": "", "refusal": None})]
        chunks += [chunk({"content": piece}) for piece in stream_pieces(plan.content or "", call.faults)]
    chunks.append(chunk({}, plan.finish_reason))
    if include_usage:
        chunks.append({**envelope, "choices": [], "usage": plan.usage})
    return chunks
