"""Anthropic Messages request -> chat completions body, the request every route and adapter serves.

| Messages API                                | chat completions                                      |
|---------------------------------------------|-------------------------------------------------------|
| `system` (a string or text blocks)          | a leading `system` message                            |
| `user` `text` / `image` blocks              | `user` content: a string, or text / image_url parts   |
| `user` `tool_result` blocks                 | `tool` messages, ahead of the turn's other content    |
| `assistant` `text` + `tool_use` blocks      | `assistant` content + `tool_calls` (input as JSON)    |
| `assistant` `thinking` / `redacted_thinking`| dropped: no chat equivalent carries them back         |
| `max_tokens` (required)                     | `max_tokens`                                          |
| `stop_sequences`                            | `stop`                                                |
| `temperature`, `top_p`                      | the same                                              |
| `metadata.user_id`                          | `user`                                                |
| `tools` (custom tools with `input_schema`)  | function tools with `parameters`                      |
| `tool_choice` auto / any / none / tool      | `auto` / `required` / `none` / the named function     |
| `tool_choice.disable_parallel_tool_use`     | `parallel_tool_calls: false`                          |
| `stream`                                    | `stream`, with `stream_options.include_usage` always  |

Refused with 400 naming the field, because serving them without their meaning would be wrong:
server tools (web search, code execution, ...), `document` and other block types the chat API
has no part for, images inside tool results, extended `thinking`, `mcp_servers`, `container`
and `context_management`. Ignored: `top_k` (the chat API has no such setting), `service_tier`,
and the `cache_control` markers on blocks (prompt caching is the provider's choice).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Final

import orjson

from gateway_proxy.body import optional, required, required_model, typed
from gateway_proxy.errors import InvalidRequest

Json = dict[str, object]

_NOT_SUPPORTED: Final = "not supported by this gateway's Messages endpoint"
# Top-level fields that change what the model does and that no chat route can honour.
_REFUSED_FIELDS: Final = ("mcp_servers", "container", "context_management")
# Messages `tool_choice.type` -> chat `tool_choice` (the named tool is built separately).
_TOOL_CHOICES: Final[Mapping[str, str]] = {"auto": "auto", "any": "required", "none": "none"}
# Assistant blocks that hold the model's own reasoning: nothing in a chat request takes them.
_DROPPED_ASSISTANT_BLOCKS: Final = frozenset({"thinking", "redacted_thinking"})


def chat_request(body: Mapping[str, object], *, needs_max_tokens: bool = True) -> Json:
    """Check a Messages body and translate it into a chat completions body (400 naming the field).

    `needs_max_tokens` is False for count_tokens, whose body has no `max_tokens`.
    """
    model = required_model(body)
    _refuse_unsupported(body)
    chat: Json = {"model": model, "messages": _system(body) + _conversation(required(body, "messages", list))}
    max_tokens = required(body, "max_tokens", int) if needs_max_tokens else optional(body, "max_tokens", int)
    if max_tokens is not None:
        if max_tokens < 1:
            raise _invalid("max_tokens: must be greater than or equal to 1", "max_tokens")
        chat["max_tokens"] = max_tokens
    stops = optional(body, "stop_sequences", list)
    if stops:
        chat["stop"] = [typed(stop, f"stop_sequences.{i}", str) for i, stop in enumerate(stops)]
    for name in ("temperature", "top_p"):
        value = body.get(name)
        if value is not None:
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise _invalid(f"{name}: Input should be a valid number", name)
            chat[name] = value
    metadata = optional(body, "metadata", dict)
    if metadata is not None and metadata.get("user_id") is not None:
        chat["user"] = typed(metadata["user_id"], "metadata.user_id", str)
    tools = optional(body, "tools", list)
    if tools:
        chat["tools"] = [_tool(tool, index) for index, tool in enumerate(tools)]
    choice = optional(body, "tool_choice", dict)
    if choice is not None:
        chat.update(_tool_choice(choice))
    if optional(body, "stream", bool):
        chat["stream"] = True
        chat["stream_options"] = {"include_usage": True}
    return chat


def _refuse_unsupported(body: Mapping[str, object]) -> None:
    for name in _REFUSED_FIELDS:
        if body.get(name) is not None:
            raise _invalid(f"{name}: {_NOT_SUPPORTED}", name)
    thinking = optional(body, "thinking", dict)
    if thinking is not None and thinking.get("type") != "disabled":
        raise _invalid(f"thinking: extended thinking is {_NOT_SUPPORTED}", "thinking")


def _system(body: Mapping[str, object]) -> list[Json]:
    system = body.get("system")
    if system is None or system == "":
        return []
    if isinstance(system, str):
        return [{"role": "system", "content": system}]
    if not isinstance(system, list):
        raise _invalid("system: Input should be a valid string or a list of text blocks", "system")
    parts = [_text_part(block, f"system.{i}") for i, block in enumerate(system)]
    return [{"role": "system", "content": parts}] if parts else []


def _conversation(messages: list[object]) -> list[Json]:
    if not messages:
        raise _invalid("messages: at least one message is required", "messages")
    chat: list[Json] = []
    for index, message in enumerate(messages):
        where = f"messages.{index}"
        message = typed(message, where, dict)
        role = message.get("role")
        content = message.get("content")
        if isinstance(content, str):
            content = [{"type": "text", "text": content}]
        elif not isinstance(content, list):
            raise _invalid(f"{where}.content: Input should be a string or blocks", f"{where}.content")
        if role == "user":
            chat.extend(_user_turn(content, where))
        elif role == "assistant":
            chat.append(_assistant_turn(content, where))
        else:
            raise _invalid(f"{where}.role: Input should be 'user' or 'assistant'", f"{where}.role")
    return chat


def _content_blocks(blocks: list[object], where: str) -> Iterator[tuple[dict[str, object], str]]:
    """Each block of a message's content, checked to be an object, with the path naming it."""
    for index, raw in enumerate(blocks):
        block_where = f"{where}.content.{index}"
        yield typed(raw, block_where, dict), block_where


def _user_turn(blocks: list[object], where: str) -> list[Json]:
    """A user turn: its tool results as `tool` messages first, then the rest as one user message."""
    tool_messages: list[Json] = []
    parts: list[Json] = []
    for block, block_where in _content_blocks(blocks, where):
        kind = block.get("type")
        if kind == "tool_result":
            tool_messages.append(_tool_result(block, block_where))
        elif kind == "text":
            parts.append(_text_part(block, block_where))
        elif kind == "image":
            parts.append(_image_part(block, block_where))
        else:
            raise _unsupported_block(kind, block_where)
    turn = tool_messages
    if parts:
        only_text = len(parts) == 1 and parts[0]["type"] == "text"
        turn.append({"role": "user", "content": parts[0]["text"] if only_text else parts})
    return turn


def _assistant_turn(blocks: list[object], where: str) -> Json:
    texts: list[str] = []
    calls: list[Json] = []
    for block, block_where in _content_blocks(blocks, where):
        kind = block.get("type")
        if kind == "text":
            texts.append(str(_text_part(block, block_where)["text"]))
        elif kind == "tool_use":
            calls.append(_tool_call(block, block_where))
        elif kind not in _DROPPED_ASSISTANT_BLOCKS:
            raise _unsupported_block(kind, block_where)
    turn: Json = {"role": "assistant", "content": "".join(texts) if texts or not calls else None}
    if calls:
        turn["tool_calls"] = calls
    return turn


def _text_part(block: object, where: str) -> Json:
    block = typed(block, where, dict)
    if block.get("type") != "text":
        raise _invalid(f"{where}.type: Input should be 'text'", f"{where}.type")
    text = block.get("text")
    if not isinstance(text, str):
        raise _invalid(f"{where}.text: Input should be a valid string", f"{where}.text")
    return {"type": "text", "text": text}


def _image_part(block: Mapping[str, object], where: str) -> Json:
    source = block.get("source")
    if not isinstance(source, Mapping):
        raise _invalid(f"{where}.source: Field required", f"{where}.source")
    kind = source.get("type")
    if kind == "base64":
        media_type, data = source.get("media_type"), source.get("data")
        if not isinstance(media_type, str) or not isinstance(data, str) or not media_type or not data:
            raise _invalid(f"{where}.source: a base64 image needs `media_type` and `data`", f"{where}.source")
        return {"type": "image_url", "image_url": {"url": f"data:{media_type};base64,{data}"}}
    if kind == "url" and isinstance(source.get("url"), str) and source["url"]:
        return {"type": "image_url", "image_url": {"url": source["url"]}}
    raise _invalid(f"{where}.source.type: image sources must be `base64` or `url`", f"{where}.source.type")


def _tool_result(block: Mapping[str, object], where: str) -> Json:
    tool_use_id = block.get("tool_use_id")
    if not isinstance(tool_use_id, str) or not tool_use_id:
        raise _invalid(f"{where}.tool_use_id: Field required", f"{where}.tool_use_id")
    content = block.get("content")
    if content is None or isinstance(content, str):
        text = content or ""
    elif isinstance(content, list):
        text = "".join(
            str(_text_part(part, f"{where}.content.{index}")["text"]) for index, part in enumerate(content)
        )
    else:
        raise _invalid(f"{where}.content: Input should be a string or text blocks", f"{where}.content")
    if block.get("is_error") is True:
        text = f"Error: {text}"
    return {"role": "tool", "tool_call_id": tool_use_id, "content": text}


def _tool_call(block: Mapping[str, object], where: str) -> Json:
    call_id, name = block.get("id"), block.get("name")
    if not isinstance(call_id, str) or not isinstance(name, str) or not call_id or not name:
        raise _invalid(f"{where}: a tool_use block needs `id` and `name`", where)
    arguments = orjson.dumps(block.get("input") or {}).decode()
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


def _tool(raw: object, index: int) -> Json:
    where = f"tools.{index}"
    tool = typed(raw, where, dict)
    if tool.get("type") not in (None, "custom"):
        raise _invalid(
            f"{where}.type: server tool `{tool.get('type')}` is {_NOT_SUPPORTED}",
            f"{where}.type",
        )
    name = tool.get("name")
    if not isinstance(name, str) or not name:
        raise _invalid(f"{where}.name: Field required", f"{where}.name")
    schema = tool.get("input_schema")
    if not isinstance(schema, dict):
        raise _invalid(f"{where}.input_schema: Field required", f"{where}.input_schema")
    function: Json = {"name": name, "parameters": schema}
    if isinstance(tool.get("description"), str):
        function["description"] = tool["description"]
    return {"type": "function", "function": function}


def _tool_choice(choice: Mapping[str, object]) -> Json:
    kind = choice.get("type")
    fields: Json = {}
    if kind == "tool":
        name = choice.get("name")
        if not isinstance(name, str) or not name:
            raise _invalid("tool_choice.name: Field required", "tool_choice.name")
        fields["tool_choice"] = {"type": "function", "function": {"name": name}}
    elif isinstance(kind, str) and kind in _TOOL_CHOICES:
        fields["tool_choice"] = _TOOL_CHOICES[kind]
    else:
        message = "tool_choice.type: Input should be 'auto', 'any', 'tool' or 'none'"
        raise _invalid(message, "tool_choice.type")
    if choice.get("disable_parallel_tool_use") is True and kind != "none":
        fields["parallel_tool_calls"] = False
    return fields


def _unsupported_block(kind: object, where: str) -> InvalidRequest:
    return _invalid(
        f"{where}.type: content blocks of type {kind!r} are {_NOT_SUPPORTED}",
        f"{where}.type",
    )


def _invalid(message: str, param: str) -> InvalidRequest:
    return InvalidRequest(message, param=param, code="invalid_value")
