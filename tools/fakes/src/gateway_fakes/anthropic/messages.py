"""`POST /v1/messages`: text replies, tool use, stop sequences, max_tokens, and streaming.

Like the OpenAI fake: the reply is `echo: <last user text>` (or `x-fake-content`); with
`tools` (and a `tool_choice` other than `none`) it is one `tool_use` block for the chosen
or first tool, its input filled from the schema; after a `tool_result` it is
`echo: <tool result>`. Tokens are whitespace-separated words of the system prompt and
every text, so `input_tokens + cache_read + cache_creation` equals that count.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass

import orjson
from starlette.responses import Response

from gateway_fakes.anthropic.errors import invalid, request_id
from gateway_fakes.anthropic.validate import validation_error
from gateway_fakes.openai.call import FakeCall, stream_events
from gateway_fakes.openai.shapes import stream_pieces
from gateway_fakes.openai.text import count_tokens, fill_schema, truncate_words

_TOOL_INPUT_PARTS = 4


@dataclass(frozen=True, slots=True)
class MessagePlan:
    """What to answer, decided once and rendered whole or as events."""

    text: str | None
    tool: tuple[str, str, object] | None  # (id, name, input)
    stop_reason: str
    stop_sequence: str | None
    usage: dict[str, object]


async def messages(call: FakeCall) -> Response:
    """Answer a Messages request, streamed when `stream` is true."""
    error = validation_error(call.body)
    if error is not None:
        return invalid(error)
    plan = _plan(call)
    message_id = f"msg_{secrets.token_hex(12)}"
    if call.body.get("stream") is True:
        return stream_events(call, _events(call, plan, message_id))
    body = {
        **_message_head(call, message_id),
        "content": _content(plan),
        "stop_reason": plan.stop_reason,
        "stop_sequence": plan.stop_sequence,
        "usage": plan.usage,
    }
    return Response(orjson.dumps(body), media_type="application/json", headers={"request-id": request_id()})


def block_text(content: object) -> str:
    """Every text of a string or block list, tool results included, space-joined."""
    if isinstance(content, str):
        return content
    texts: list[str] = []
    for block in content if isinstance(content, list) else []:
        if isinstance(block, Mapping) and block.get("type") == "text":
            texts.append(str(block.get("text", "")))
        elif isinstance(block, Mapping) and block.get("type") == "tool_result":
            texts.append(block_text(block.get("content")))
    return " ".join(texts)


def _plan(call: FakeCall) -> MessagePlan:
    body, faults = call.body, call.faults
    raw_turns = body.get("messages")
    turns = [m for m in raw_turns if isinstance(m, Mapping)] if isinstance(raw_turns, list) else []
    prompt = count_tokens(block_text(body.get("system"))) + sum(
        count_tokens(block_text(m.get("content"))) for m in turns
    )
    last = turns[-1]
    answering_tool = isinstance(last.get("content"), list) and any(
        isinstance(b, Mapping) and b.get("type") == "tool_result" for b in last["content"]
    )
    user_text = block_text(last.get("content"))
    tool = None if answering_tool else _chosen_tool(body)
    stop_sequence = None
    if tool is not None:
        name, schema = tool
        tool_input = fill_schema(schema, user_text)
        output = count_tokens(orjson.dumps(tool_input).decode())
        text, planned_tool, stop_reason = (
            None,
            (f"toolu_{secrets.token_hex(12)}", name, tool_input),
            "tool_use",
        )
    else:
        planned_tool = None
        text, stop_reason, stop_sequence = _reply(body, faults.content or f"echo: {user_text}")
        output = count_tokens(text)
    read = min(faults.cached_tokens, prompt)
    written = min(faults.cache_write_tokens, prompt - read)
    usage: dict[str, object] = {
        "input_tokens": prompt - read - written,
        "cache_creation_input_tokens": written,
        "cache_read_input_tokens": read,
        "output_tokens": output,
        "service_tier": "standard",
    }
    return MessagePlan(text, planned_tool, stop_reason, stop_sequence, usage)


def _reply(body: Mapping[str, object], text: str) -> tuple[str, str, str | None]:
    """Apply stop sequences, then max_tokens: (text, stop_reason, stop_sequence)."""
    stops = body.get("stop_sequences")
    hits = (
        [(text.find(s), s) for s in stops if isinstance(s, str) and s and s in text]
        if isinstance(stops, list)
        else []
    )
    if hits:
        at, sequence = min(hits)
        return text[:at], "stop_sequence", sequence
    max_tokens = body.get("max_tokens")
    cut_text, cut = truncate_words(text, max_tokens if isinstance(max_tokens, int) else None)
    return cut_text, "max_tokens" if cut else "end_turn", None


def _chosen_tool(body: Mapping[str, object]) -> tuple[str, object] | None:
    tools = body.get("tools")
    choice = body.get("tool_choice")
    choice = choice if isinstance(choice, Mapping) else {"type": "auto"}
    if not isinstance(tools, list) or not tools or choice.get("type") == "none":
        return None
    wanted = choice.get("name") if choice.get("type") == "tool" else None
    for tool in tools:
        if isinstance(tool, Mapping) and (wanted is None or tool.get("name") == wanted):
            return str(tool.get("name")), tool.get("input_schema")
    return None


def _message_head(call: FakeCall, message_id: str) -> dict[str, object]:
    return {"id": message_id, "type": "message", "role": "assistant", "model": call.model}


def _content(plan: MessagePlan) -> list[dict[str, object]]:
    if plan.tool is not None:
        tool_id, name, tool_input = plan.tool
        return [{"type": "tool_use", "id": tool_id, "name": name, "input": tool_input}]
    return [{"type": "text", "text": plan.text or ""}]


def _event(kind: str, payload: Mapping[str, object]) -> bytes:
    return f"event: {kind}\n".encode() + b"data: " + orjson.dumps({"type": kind, **payload}) + b"\n\n"


def _events(call: FakeCall, plan: MessagePlan, message_id: str) -> list[bytes]:
    start_usage = {**plan.usage, "output_tokens": 1}
    start = {**_message_head(call, message_id), "content": [], "stop_reason": None, "stop_sequence": None}
    events = [_event("message_start", {"message": {**start, "usage": start_usage}})]
    if call.faults.stream_error:
        events.append(_event("error", {"error": {"type": "overloaded_error", "message": "Overloaded"}}))
        return events
    if plan.tool is not None:
        tool_id, name, tool_input = plan.tool
        block = {"type": "tool_use", "id": tool_id, "name": name, "input": {}}
        pieces = stream_pieces(orjson.dumps(tool_input).decode(), call.faults, _TOOL_INPUT_PARTS)
        deltas = [{"type": "input_json_delta", "partial_json": piece} for piece in pieces]
    else:
        block = {"type": "text", "text": ""}
        deltas = [
            {"type": "text_delta", "text": piece} for piece in stream_pieces(plan.text or "", call.faults)
        ]
    events.append(_event("content_block_start", {"index": 0, "content_block": block}))
    events.append(_event("ping", {}))
    events += [_event("content_block_delta", {"index": 0, "delta": delta}) for delta in deltas]
    events.append(_event("content_block_stop", {"index": 0}))
    events.append(
        _event(
            "message_delta",
            {
                "delta": {"stop_reason": plan.stop_reason, "stop_sequence": plan.stop_sequence},
                "usage": {"output_tokens": plan.usage["output_tokens"]},
            },
        )
    )
    events.append(_event("message_stop", {}))
    return events
