"""`models/{model}:generateContent` and `:streamGenerateContent`: replies, function calls, SSE.

Like the other fakes: the reply is `echo: <last user text>` (or `x-fake-content`); with
`tools` (and a calling mode other than NONE) it is one `functionCall` to the allowed or
first function, its args filled from the schema, unless the last turn is a
`functionResponse` (then `echo: <its content>`). Tokens are whitespace-separated words.
`streamGenerateContent?alt=sse` streams SSE (`\\r\\n\\r\\n`-separated, as Google does);
without `alt=sse` it answers a JSON array of the same fragments. `x-fake-stream-error: 1`
sends a RESOURCE_EXHAUSTED error event after the first fragment.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

import orjson
from starlette.responses import Response

from gateway_fakes.openai.call import FakeCall, stream_events
from gateway_fakes.openai.shapes import stream_pieces
from gateway_fakes.openai.text import count_tokens, fill_schema, truncate_words
from gateway_fakes.vertex.errors import error_payload, invalid

TOP_LEVEL: Final = frozenset(
    {
        "contents",
        "systemInstruction",
        "generationConfig",
        "tools",
        "toolConfig",
        "safetySettings",
        "labels",
        "cachedContent",
    }
)


@dataclass(frozen=True, slots=True)
class GeminiPlan:
    """What to answer, decided once and rendered whole or as fragments."""

    text: str | None
    call: tuple[str, object] | None  # (name, args)
    finish: str
    usage: dict[str, int]


def model_of(call: FakeCall) -> str:
    """The model of `.../models/{model}:{action}`."""
    return str(call.request.path_params["model_action"]).rsplit(":", 1)[0]


async def generate_content(call: FakeCall) -> Response:
    """Answer generateContent with one `GenerateContentResponse`."""
    error = _validation_error(call.body)
    if error is not None:
        return invalid(error)
    plan = _plan(call)
    body = {**_fragment(plan.text, plan.call, plan.finish, model_of(call)), "usageMetadata": plan.usage}
    return Response(orjson.dumps(body), media_type="application/json")


async def stream_generate_content(call: FakeCall) -> Response:
    """Answer streamGenerateContent: SSE with `alt=sse`, else a JSON array of fragments."""
    error = _validation_error(call.body)
    if error is not None:
        return invalid(error)
    fragments = _fragments(call, _plan(call))
    if call.request.query_params.get("alt") != "sse":
        return Response(orjson.dumps(fragments), media_type="application/json")
    return stream_events(call, [b"data: " + orjson.dumps(f) + b"\r\n\r\n" for f in fragments])


def _validation_error(body: Mapping[str, object]) -> str | None:
    unknown = sorted(set(body) - TOP_LEVEL)
    if unknown:
        return f'Invalid JSON payload received. Unknown name "{unknown[0]}": Cannot find field.'
    contents = body.get("contents")
    if not isinstance(contents, list) or not contents:
        return "Unable to submit request because it must include at least one contents field."
    for index, content in enumerate(contents):
        if not isinstance(content, Mapping) or content.get("role") not in ("user", "model"):
            return f"Please use a valid role: user, model. (contents[{index}])"
        parts = content.get("parts")
        if not isinstance(parts, list) or not parts:
            return f"Unable to submit request because it has an empty parts field (contents[{index}])."
    return None


def _texts(parts: object) -> str:
    texts: list[str] = []
    for part in parts if isinstance(parts, list) else []:
        if not isinstance(part, Mapping):
            continue
        if isinstance(part.get("text"), str):
            texts.append(str(part["text"]))
        response = part.get("functionResponse")
        if isinstance(response, Mapping):
            inner = response.get("response")
            texts.append(str(inner.get("content", "")) if isinstance(inner, Mapping) else "")
    return " ".join(texts)


def _plan(call: FakeCall) -> GeminiPlan:
    body, faults = call.body, call.faults
    raw_contents = body.get("contents")
    contents = [c for c in raw_contents if isinstance(c, Mapping)] if isinstance(raw_contents, list) else []
    system = body.get("systemInstruction")
    prompt = count_tokens(_texts(system.get("parts") if isinstance(system, Mapping) else None))
    prompt += sum(count_tokens(_texts(c.get("parts"))) for c in contents)
    last = contents[-1].get("parts")
    answering = isinstance(last, list) and any(
        isinstance(p, Mapping) and "functionResponse" in p for p in last
    )
    user_text = _texts(last)
    chosen = None if answering else _chosen_function(body)
    if chosen is not None:
        name, schema = chosen
        args = fill_schema(schema, user_text)
        text, call_plan, finish = None, (name, args), "STOP"
        output = count_tokens(orjson.dumps(args).decode())
    else:
        config = body.get("generationConfig")
        limit = config.get("maxOutputTokens") if isinstance(config, Mapping) else None
        text, cut = truncate_words(
            faults.content or f"echo: {user_text}", limit if isinstance(limit, int) else None
        )
        call_plan, finish, output = None, "MAX_TOKENS" if cut else "STOP", count_tokens(text)
    usage = {
        "promptTokenCount": prompt,
        "candidatesTokenCount": output,
        "totalTokenCount": prompt + output + faults.reasoning_tokens,
        "cachedContentTokenCount": min(faults.cached_tokens, prompt),
        "thoughtsTokenCount": faults.reasoning_tokens,
    }
    return GeminiPlan(text, call_plan, finish, usage)


def _chosen_function(body: Mapping[str, object]) -> tuple[str, object] | None:
    tool_config = body.get("toolConfig")
    calling = tool_config.get("functionCallingConfig") if isinstance(tool_config, Mapping) else None
    calling = calling if isinstance(calling, Mapping) else {}
    if calling.get("mode") == "NONE":
        return None
    allowed = calling.get("allowedFunctionNames")
    tools = body.get("tools")
    for tool in tools if isinstance(tools, list) else []:
        declarations = tool.get("functionDeclarations") if isinstance(tool, Mapping) else None
        for declaration in declarations if isinstance(declarations, list) else []:
            if not isinstance(declaration, Mapping):
                continue
            if not isinstance(allowed, list) or declaration.get("name") in allowed:
                return str(declaration.get("name")), declaration.get("parameters")
    return None


def _fragment(
    text: str | None, call: tuple[str, object] | None, finish: str | None, model: str
) -> dict[str, object]:
    parts: list[dict[str, object]] = []
    if text is not None:
        parts.append({"text": text})
    if call is not None:
        parts.append({"functionCall": {"name": call[0], "args": call[1]}})
    candidate: dict[str, object] = {"content": {"role": "model", "parts": parts}, "index": 0}
    if finish is not None:
        candidate["finishReason"] = finish
    return {"candidates": [candidate], "modelVersion": model}


def _fragments(call: FakeCall, plan: GeminiPlan) -> list[dict[str, object]]:
    model = model_of(call)
    if plan.call is not None:
        return [{**_fragment(None, plan.call, plan.finish, model), "usageMetadata": plan.usage}]
    pieces = stream_pieces(plan.text or "", call.faults)
    fragments = [_fragment(piece, None, None, model) for piece in pieces[:-1]]
    if call.faults.stream_error:
        return [*fragments[:1], error_payload(429, "Resource exhausted. Please try again later.")]
    fragments.append({**_fragment(pieces[-1], None, plan.finish, model), "usageMetadata": plan.usage})
    return fragments
