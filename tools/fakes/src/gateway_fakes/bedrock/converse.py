"""`POST /model/{modelId}/converse` and `/converse-stream`: text replies, tool use, stop
sequences, maxTokens, and the binary event-stream.

Like the other fakes: the reply is `echo: <last user text>` (or `x-fake-content`); with
`toolConfig` it is one `toolUse` block for the chosen (`toolChoice.tool`) or first tool,
its input filled from the schema, unless the last turn answers a tool (then
`echo: <tool result>`). Tokens are whitespace-separated words of the system prompt and
every text, so `inputTokens + cacheReadInputTokens + cacheWriteInputTokens` equals that.
Extra faults: `x-fake-cache-write-tokens`, and `x-fake-stream-error: 1` (a
`throttlingException` message after messageStart).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass

import orjson
from starlette.responses import Response

from gateway_fakes.bedrock import eventstream
from gateway_fakes.bedrock.errors import request_id, validation
from gateway_fakes.bedrock.validate import validation_error
from gateway_fakes.openai.call import FakeCall, stream_events
from gateway_fakes.openai.shapes import stream_pieces
from gateway_fakes.openai.text import count_tokens, fill_schema, truncate_words

EVENT_STREAM_TYPE = "application/vnd.amazon.eventstream"
_TOOL_INPUT_PARTS = 4


@dataclass(frozen=True, slots=True)
class ConversePlan:
    """What to answer, decided once and rendered whole or as events."""

    text: str | None
    tool: tuple[str, str, object] | None  # (toolUseId, name, input)
    stop_reason: str
    usage: dict[str, int]


async def converse(call: FakeCall) -> Response:
    """Answer a Converse request with JSON."""
    error = validation_error(call.body)
    if error is not None:
        return validation(error)
    plan = _plan(call)
    body = {
        "output": {"message": {"role": "assistant", "content": _content(plan)}},
        "stopReason": plan.stop_reason,
        "usage": plan.usage,
        "metrics": {"latencyMs": 1},
    }
    return Response(
        orjson.dumps(body), media_type="application/json", headers={"x-amzn-RequestId": request_id()}
    )


async def converse_stream(call: FakeCall) -> Response:
    """Answer a ConverseStream request with event-stream frames."""
    error = validation_error(call.body)
    if error is not None:
        return validation(error)
    response = stream_events(call, _events(call, _plan(call)), media_type=EVENT_STREAM_TYPE)
    response.headers["x-amzn-RequestId"] = request_id()
    return response


def _texts(content: object) -> str:
    texts: list[str] = []
    for block in content if isinstance(content, list) else []:
        if not isinstance(block, Mapping):
            continue
        if isinstance(block.get("text"), str):
            texts.append(str(block["text"]))
        result = block.get("toolResult")
        if isinstance(result, Mapping):
            texts.append(_texts(result.get("content")))
    return " ".join(texts)


def _plan(call: FakeCall) -> ConversePlan:
    body, faults = call.body, call.faults
    messages = body.get("messages")
    turns = [m for m in messages if isinstance(m, Mapping)] if isinstance(messages, list) else []
    prompt = count_tokens(_texts(body.get("system"))) + sum(
        count_tokens(_texts(m.get("content"))) for m in turns
    )
    last = turns[-1].get("content")
    answering_tool = isinstance(last, list) and any(
        isinstance(b, Mapping) and "toolResult" in b for b in last
    )
    user_text = _texts(last)
    tool = None if answering_tool else _chosen_tool(body.get("toolConfig"))
    planned_tool: tuple[str, str, object] | None = None
    if tool is not None:
        name, schema = tool
        tool_input = fill_schema(schema, user_text)
        planned_tool = (f"tooluse_{secrets.token_hex(11)}", name, tool_input)
        text, stop_reason = None, "tool_use"
        output = count_tokens(orjson.dumps(tool_input).decode())
    else:
        text, stop_reason = _reply(body, faults.content or f"echo: {user_text}")
        output = count_tokens(text)
    read = min(faults.cached_tokens, prompt)
    written = min(faults.cache_write_tokens, prompt - read)
    usage = {
        "inputTokens": prompt - read - written,
        "outputTokens": output,
        "totalTokens": prompt + output,
        "cacheReadInputTokens": read,
        "cacheWriteInputTokens": written,
    }
    return ConversePlan(text, planned_tool, stop_reason, usage)


def _reply(body: Mapping[str, object], text: str) -> tuple[str, str]:
    """Apply stop sequences, then maxTokens: (text, stopReason)."""
    inference = body.get("inferenceConfig")
    inference = inference if isinstance(inference, Mapping) else {}
    stops = inference.get("stopSequences")
    hits = (
        [text.find(s) for s in stops if isinstance(s, str) and s and s in text]
        if isinstance(stops, list)
        else []
    )
    if hits:
        return text[: min(hits)], "stop_sequence"
    max_tokens = inference.get("maxTokens")
    cut_text, cut = truncate_words(text, max_tokens if isinstance(max_tokens, int) else None)
    return cut_text, "max_tokens" if cut else "end_turn"


def _chosen_tool(config: object) -> tuple[str, object] | None:
    if not isinstance(config, Mapping):
        return None
    choice = config.get("toolChoice")
    wanted = None
    if isinstance(choice, Mapping) and isinstance(choice.get("tool"), Mapping):
        wanted = choice["tool"].get("name")
    tools = config.get("tools")
    for tool in tools if isinstance(tools, list) else []:
        spec = tool.get("toolSpec") if isinstance(tool, Mapping) else None
        if isinstance(spec, Mapping) and (wanted is None or spec.get("name") == wanted):
            schema = spec.get("inputSchema")
            return str(spec.get("name")), schema.get("json") if isinstance(schema, Mapping) else None
    return None


def _content(plan: ConversePlan) -> list[dict[str, object]]:
    if plan.tool is not None:
        tool_id, name, tool_input = plan.tool
        return [{"toolUse": {"toolUseId": tool_id, "name": name, "input": tool_input}}]
    return [{"text": plan.text or ""}]


def _events(call: FakeCall, plan: ConversePlan) -> list[bytes]:
    events = [eventstream.event("messageStart", {"role": "assistant"})]
    if call.faults.stream_error:
        events.append(
            eventstream.exception("throttlingException", "Too many tokens, please wait before trying again.")
        )
        return events
    if plan.tool is not None:
        tool_id, name, tool_input = plan.tool
        events.append(
            eventstream.event(
                "contentBlockStart",
                {"contentBlockIndex": 0, "start": {"toolUse": {"toolUseId": tool_id, "name": name}}},
            )
        )
        pieces = stream_pieces(orjson.dumps(tool_input).decode(), call.faults, _TOOL_INPUT_PARTS)
        deltas: list[dict[str, object]] = [{"toolUse": {"input": piece}} for piece in pieces]
    else:
        deltas = [{"text": piece} for piece in stream_pieces(plan.text or "", call.faults)]
    events += [eventstream.event("contentBlockDelta", {"contentBlockIndex": 0, "delta": d}) for d in deltas]
    events.append(eventstream.event("contentBlockStop", {"contentBlockIndex": 0}))
    events.append(eventstream.event("messageStop", {"stopReason": plan.stop_reason}))
    events.append(eventstream.event("metadata", {"usage": plan.usage, "metrics": {"latencyMs": 1}}))
    return events
