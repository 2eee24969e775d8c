"""OpenAI chat request -> Anthropic Messages request body.

| OpenAI                                   | Messages API                                          |
|------------------------------------------|-------------------------------------------------------|
| `system` / `developer` messages          | top-level `system` (text blocks, in order)            |
| `user` content parts: text, image_url    | `text`, `image` (`base64` from a data URL, else `url`)|
| `assistant` content + `tool_calls`       | `text` + `tool_use` blocks (arguments parsed as JSON) |
| `tool` messages                          | `tool_result` blocks in a `user` turn                 |
| consecutive turns of one role            | merged into one turn (the API wants alternation)      |
| `tools` (functions)                      | `tools` with `input_schema`                           |
| `tool_choice` auto/required/none/named   | `auto` / `any` / `none` / `tool`                      |
| `parallel_tool_calls: false`             | `tool_choice.disable_parallel_tool_use: true`         |
| `max_completion_tokens` / `max_tokens`   | `max_tokens` (required: the `max_tokens` setting, 4096)|
| `stop` (string or list)                  | `stop_sequences`                                      |
| `temperature` (0-2)                      | `temperature`, capped at 1 (the API's maximum)        |
| `top_p`, `stream`                        | same                                                  |
| `user`                                   | `metadata.user_id`                                    |

`n > 1`, a JSON `response_format`, and audio/file content parts have no Messages
equivalent; they raise `UnsupportedRequestError` rather than being silently dropped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final

from gateway_providers.base import UnsupportedRequestError
from gateway_providers.conversation import Block, BlockBuilders, fold_conversation, tool_arguments

DEFAULT_MAX_TOKENS: Final = 4096
MAX_TEMPERATURE: Final = 1.0


def messages_request(body: Mapping[str, object], model: str, default_max_tokens: int) -> dict[str, object]:
    """Translate a chat completions body into a Messages API body for `model`."""
    _refuse_unsupported(body)
    system, turns = fold_conversation(body.get("messages"), _BUILDERS)
    request: dict[str, object] = {
        "model": model,
        "max_tokens": _max_tokens(body, default_max_tokens),
        "messages": turns,
    }
    if system:
        request["system"] = system
    stop = body.get("stop")
    if isinstance(stop, str):
        request["stop_sequences"] = [stop]
    elif isinstance(stop, list) and stop:
        request["stop_sequences"] = [s for s in stop if isinstance(s, str)]
    temperature = body.get("temperature")
    if isinstance(temperature, int | float) and not isinstance(temperature, bool):
        request["temperature"] = min(float(temperature), MAX_TEMPERATURE)
    top_p = body.get("top_p")
    if isinstance(top_p, int | float) and not isinstance(top_p, bool):
        request["top_p"] = top_p
    if body.get("stream") is True:
        request["stream"] = True
    user = body.get("user")
    if isinstance(user, str) and user:
        request["metadata"] = {"user_id": user}
    tools = _tools(body.get("tools"))
    if tools:
        request["tools"] = tools
    choice = _tool_choice(body.get("tool_choice"), body.get("parallel_tool_calls"))
    if choice is not None and (tools or choice.get("type") == "none"):
        request["tool_choice"] = choice
    return request


def _refuse_unsupported(body: Mapping[str, object]) -> None:
    n = body.get("n")
    if isinstance(n, int) and n > 1:
        raise UnsupportedRequestError("This provider returns one choice per request; `n` must be 1.", "n")
    response_format = body.get("response_format")
    if isinstance(response_format, Mapping) and response_format.get("type") not in (None, "text"):
        raise UnsupportedRequestError(
            "This provider has no JSON mode; `response_format` must be `text`.", "response_format"
        )


def _max_tokens(body: Mapping[str, object], default: int) -> int:
    for name in ("max_completion_tokens", "max_tokens"):
        value = body.get(name)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return default


def _text_blocks(content: object) -> list[Block]:
    """Text of a string or a parts list; the API rejects empty text blocks, so they are dropped."""
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content else []
    if isinstance(content, list):
        return [
            {"type": "text", "text": part["text"]}
            for part in content
            if isinstance(part, Mapping) and isinstance(part.get("text"), str) and part["text"]
        ]
    return []


def _content_blocks(content: object) -> list[Block]:
    if not isinstance(content, list):
        return _text_blocks(content)
    blocks: list[Block] = []
    for part in content:
        kind = part.get("type") if isinstance(part, Mapping) else None
        if kind == "text" and isinstance(part, Mapping):
            blocks.extend(_text_blocks([part]))
        elif kind == "image_url" and isinstance(part, Mapping):
            blocks.append(_image_block(part.get("image_url")))
        else:
            raise UnsupportedRequestError(f"Unsupported content part type: {kind!r}.", "messages")
    return blocks


def _image_block(image_url: object) -> Block:
    url = image_url.get("url") if isinstance(image_url, Mapping) else image_url
    if not isinstance(url, str) or not url:
        raise UnsupportedRequestError("An image_url part needs a `url`.", "messages")
    if url.startswith("data:"):
        header, sep, data = url[len("data:") :].partition(",")
        media_type, _, encoding = header.partition(";")
        if not sep or encoding != "base64" or not media_type:
            raise UnsupportedRequestError("Image data URLs must be base64 encoded.", "messages")
        return {"type": "image", "source": {"type": "base64", "media_type": media_type, "data": data}}
    return {"type": "image", "source": {"type": "url", "url": url}}


def _tool_use_blocks(tool_calls: object) -> list[Block]:
    if not isinstance(tool_calls, list):
        return []
    blocks: list[Block] = []
    for call in tool_calls:
        function = call.get("function") if isinstance(call, Mapping) else None
        if not isinstance(call, Mapping) or not isinstance(function, Mapping):
            raise UnsupportedRequestError("Each tool call needs a `function`.", "messages")
        blocks.append(
            {
                "type": "tool_use",
                "id": call.get("id"),
                "name": function.get("name"),
                "input": tool_arguments(function.get("arguments")),
            }
        )
    return blocks


def _tool_result(message: Mapping[str, object]) -> Block:
    content = message.get("content")
    text = content if isinstance(content, str) else "".join(str(b["text"]) for b in _text_blocks(content))
    return {"type": "tool_result", "tool_use_id": message.get("tool_call_id"), "content": text}


def _tools(tools: object) -> list[Block]:
    if not isinstance(tools, Sequence) or isinstance(tools, str):
        return []
    result: list[Block] = []
    for tool in tools:
        function = tool.get("function") if isinstance(tool, Mapping) else None
        if (
            not isinstance(tool, Mapping)
            or tool.get("type") != "function"
            or not isinstance(function, Mapping)
        ):
            raise UnsupportedRequestError("Only function tools are supported.", "tools")
        entry: Block = {
            "name": function.get("name"),
            "input_schema": function.get("parameters") or {"type": "object", "properties": {}},
        }
        if isinstance(function.get("description"), str):
            entry["description"] = function["description"]
        result.append(entry)
    return result


# OpenAI's named tool_choice modes -> Messages API `tool_choice.type`.
_TOOL_CHOICE_TYPES: Final[Mapping[str, str]] = {"auto": "auto", "required": "any", "none": "none"}


def _tool_choice(choice: object, parallel: object) -> Block | None:
    mapped: Block | None = None
    if isinstance(choice, str) and choice in _TOOL_CHOICE_TYPES:
        mapped = {"type": _TOOL_CHOICE_TYPES[choice]}
    elif isinstance(choice, Mapping) and isinstance(choice.get("function"), Mapping):
        mapped = {"type": "tool", "name": choice["function"].get("name")}
    if parallel is False:
        mapped = {**(mapped or {"type": "auto"}), "disable_parallel_tool_use": True}
    return mapped


_BUILDERS = BlockBuilders(
    text=_text_blocks, content=_content_blocks, tool_uses=_tool_use_blocks, tool_result=_tool_result
)
