"""OpenAI chat request -> Bedrock Converse request body.

| OpenAI                                   | Converse                                               |
|------------------------------------------|--------------------------------------------------------|
| `system` / `developer` messages          | top-level `system: [{text}]`                           |
| `user` content parts: text, image_url    | `text`, `image` (`{format, source: {bytes}}`, data URLs)|
| `assistant` content + `tool_calls`       | `text` + `toolUse` blocks (arguments parsed as JSON)   |
| `tool` messages                          | `toolResult` blocks in a `user` turn                   |
| consecutive turns of one role            | merged into one turn (Converse wants alternation)      |
| `tools` (functions)                      | `toolConfig.tools[].toolSpec` with `inputSchema.json`  |
| `tool_choice` auto / required / named    | `toolChoice` `auto` / `any` / `tool`                   |
| `tool_choice: none`                      | no `toolConfig` (kept, without a choice, when the      |
|                                          | conversation already holds tool blocks: Converse needs it)|
| `max_completion_tokens` / `max_tokens`   | `inferenceConfig.maxTokens`                            |
| `temperature`, `top_p`, `stop`           | `inferenceConfig.temperature` / `topP` / `stopSequences`|

The model id goes in the URL, not the body. `n > 1`, a JSON `response_format`, image
URLs that are not data URLs, and audio/file parts raise `UnsupportedRequestError`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final

from gateway_providers.base import UnsupportedRequestError
from gateway_providers.conversation import Block, BlockBuilders, fold_conversation, tool_arguments

_IMAGE_FORMATS: Final[Mapping[str, str]] = {
    "image/png": "png",
    "image/jpeg": "jpeg",
    "image/jpg": "jpeg",
    "image/gif": "gif",
    "image/webp": "webp",
}


def converse_request(body: Mapping[str, object]) -> dict[str, object]:
    """Translate a chat completions body into a Converse body (the model id is not part of it)."""
    _refuse_unsupported(body)
    system, turns = fold_conversation(body.get("messages"), _BUILDERS)
    request: dict[str, object] = {"messages": turns}
    if system:
        request["system"] = system
    inference = _inference_config(body)
    if inference:
        request["inferenceConfig"] = inference
    has_tool_blocks = any(
        "toolUse" in block or "toolResult" in block
        for turn in turns
        for block in (turn["content"] if isinstance(turn["content"], list) else [])
        if isinstance(block, Mapping)
    )
    tool_config = _tool_config(body.get("tools"), body.get("tool_choice"), has_tool_blocks)
    if tool_config is not None:
        request["toolConfig"] = tool_config
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


def _inference_config(body: Mapping[str, object]) -> dict[str, object]:
    config: dict[str, object] = {}
    for name in ("max_completion_tokens", "max_tokens"):
        value = body.get(name)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            config["maxTokens"] = value
            break
    for source, target in (("temperature", "temperature"), ("top_p", "topP")):
        value = body.get(source)
        if isinstance(value, int | float) and not isinstance(value, bool):
            config[target] = value
    stop = body.get("stop")
    if isinstance(stop, str):
        config["stopSequences"] = [stop]
    elif isinstance(stop, list) and stop:
        config["stopSequences"] = [s for s in stop if isinstance(s, str)]
    return config


def _text_blocks(content: object) -> list[Block]:
    if isinstance(content, str):
        return [{"text": content}] if content else []
    if not isinstance(content, list):
        return []
    return [
        {"text": part["text"]}
        for part in content
        if isinstance(part, Mapping)
        and part.get("type") == "text"
        and isinstance(part.get("text"), str)
        and part["text"]
    ]


def _content_blocks(content: object) -> list[Block]:
    if not isinstance(content, list):
        return _text_blocks(content)
    blocks: list[Block] = []
    for part in content:
        kind = part.get("type") if isinstance(part, Mapping) else None
        if kind == "text":
            blocks.extend(_text_blocks([part]))
        elif kind == "image_url" and isinstance(part, Mapping):
            blocks.append(_image(part.get("image_url")))
        else:
            raise UnsupportedRequestError(f"Unsupported content part type: {kind!r}.", "messages")
    return blocks


def _image(image_url: object) -> Block:
    url = image_url.get("url") if isinstance(image_url, Mapping) else image_url
    if not isinstance(url, str) or not url.startswith("data:") or ";base64," not in url:
        raise UnsupportedRequestError("Bedrock accepts images as base64 data URLs only.", "messages")
    media_type, data = url.removeprefix("data:").split(";base64,", 1)
    image_format = _IMAGE_FORMATS.get(media_type.lower())
    if image_format is None:
        raise UnsupportedRequestError(f"Unsupported image type: {media_type!r}.", "messages")
    return {"image": {"format": image_format, "source": {"bytes": data}}}


def _tool_use_blocks(tool_calls: object) -> list[Block]:
    if not isinstance(tool_calls, list):
        return []
    blocks: list[Block] = []
    for call in tool_calls:
        function = call.get("function") if isinstance(call, Mapping) else None
        if not isinstance(call, Mapping) or not isinstance(function, Mapping):
            raise UnsupportedRequestError("Each tool call must be a function call.", "messages")
        blocks.append(
            {
                "toolUse": {
                    "toolUseId": call.get("id"),
                    "name": function.get("name"),
                    "input": tool_arguments(function.get("arguments")),
                }
            }
        )
    return blocks


def _tool_result(message: Mapping[str, object]) -> Block:
    content = message.get("content")
    text = content if isinstance(content, str) else " ".join(str(b["text"]) for b in _text_blocks(content))
    return {
        "toolResult": {
            "toolUseId": message.get("tool_call_id"),
            "content": [{"text": text}],
            "status": "success",
        }
    }


def _tool_config(tools: object, choice: object, has_tool_blocks: bool) -> Block | None:
    specs = _tool_specs(tools)
    if not specs:
        return None
    if choice == "none":
        return {"tools": specs} if has_tool_blocks else None
    config: Block = {"tools": specs}
    if choice == "auto":
        config["toolChoice"] = {"auto": {}}
    elif choice == "required":
        config["toolChoice"] = {"any": {}}
    elif isinstance(choice, Mapping) and isinstance(choice.get("function"), Mapping):
        config["toolChoice"] = {"tool": {"name": choice["function"].get("name")}}
    return config


def _tool_specs(tools: object) -> list[Block]:
    if not isinstance(tools, Sequence) or isinstance(tools, str):
        return []
    specs: list[Block] = []
    for tool in tools:
        function = tool.get("function") if isinstance(tool, Mapping) else None
        if (
            not isinstance(tool, Mapping)
            or tool.get("type") != "function"
            or not isinstance(function, Mapping)
        ):
            raise UnsupportedRequestError("Only function tools are supported.", "tools")
        spec: Block = {
            "name": function.get("name"),
            "inputSchema": {"json": function.get("parameters") or {"type": "object", "properties": {}}},
        }
        if isinstance(function.get("description"), str):
            spec["description"] = function["description"]
        specs.append({"toolSpec": spec})
    return specs


_BUILDERS = BlockBuilders(
    text=_text_blocks, content=_content_blocks, tool_uses=_tool_use_blocks, tool_result=_tool_result
)
