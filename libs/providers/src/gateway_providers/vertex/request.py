"""OpenAI chat request -> Gemini `generateContent` request body.

| OpenAI                                   | Gemini                                                 |
|------------------------------------------|--------------------------------------------------------|
| `system` / `developer` messages          | `systemInstruction.parts[].text`                       |
| `user` text / data-URL image parts       | `user` turn: `text` / `inlineData {mimeType, data}`    |
| `assistant` content + `tool_calls`       | `model` turn: `text` + `functionCall {name, args}`     |
| `tool` messages                          | `user` turn: `functionResponse {name, response}` (the  |
|                                          | name is looked up from the assistant's tool call id)   |
| consecutive turns of one role            | merged                                                 |
| `tools` (functions)                      | `tools[0].functionDeclarations`                        |
| `tool_choice` auto/required/none/named  | `functionCallingConfig.mode` AUTO/ANY/NONE, or ANY +   |
|                                          | `allowedFunctionNames` for a named function            |
| `max_completion_tokens` / `max_tokens`   | `generationConfig.maxOutputTokens`                     |
| `temperature`, `top_p`, `stop`, `n`      | `temperature`, `topP`, `stopSequences`, `candidateCount`|
| `response_format` json_object / json_schema | `responseMimeType: application/json` (+ `responseSchema`)|
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import orjson

from gateway_providers.base import UnsupportedRequestError
from gateway_providers.conversation import BlockBuilders, fold_conversation

Part = dict[str, object]

_TOOL_MODES: Final[Mapping[str, str]] = {"auto": "AUTO", "required": "ANY", "none": "NONE"}


def generate_content_request(body: Mapping[str, object]) -> dict[str, object]:
    """Translate a chat completions body into a Gemini `generateContent` body."""
    system, contents = _conversation(body.get("messages"))
    request: dict[str, object] = {"contents": contents}
    if system:
        request["systemInstruction"] = {"parts": system}
    config = _generation_config(body)
    if config:
        request["generationConfig"] = config
    declarations = _declarations(body.get("tools"))
    if declarations:
        request["tools"] = [{"functionDeclarations": declarations}]
        tool_config = _tool_config(body.get("tool_choice"))
        if tool_config is not None:
            request["toolConfig"] = tool_config
    return request


def _generation_config(body: Mapping[str, object]) -> dict[str, object]:
    config: dict[str, object] = {}
    for name in ("max_completion_tokens", "max_tokens"):
        value = body.get(name)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            config["maxOutputTokens"] = value
            break
    for source, target in (("temperature", "temperature"), ("top_p", "topP")):
        value = body.get(source)
        if isinstance(value, int | float) and not isinstance(value, bool):
            config[target] = value
    n = body.get("n")
    if isinstance(n, int) and not isinstance(n, bool) and n > 1:
        config["candidateCount"] = n
    stop = body.get("stop")
    if isinstance(stop, str):
        config["stopSequences"] = [stop]
    elif isinstance(stop, list) and stop:
        config["stopSequences"] = [s for s in stop if isinstance(s, str)]
    response_format = body.get("response_format")
    if isinstance(response_format, Mapping) and response_format.get("type") in ("json_object", "json_schema"):
        config["responseMimeType"] = "application/json"
        schema = response_format.get("json_schema")
        if isinstance(schema, Mapping) and isinstance(schema.get("schema"), Mapping):
            config["responseSchema"] = schema["schema"]
    return config


def _conversation(messages: object) -> tuple[list[Part], list[Part]]:
    # Tool results name their call by id; Gemini wants the function's name, learned from the calls.
    call_names: dict[str, str] = {}
    builders = BlockBuilders(
        text=_text_parts,
        content=_content_parts,
        tool_uses=lambda calls: _function_calls(calls, call_names),
        tool_result=lambda message: _function_response(message, call_names),
    )
    return fold_conversation(messages, builders, assistant_role="model", content_key="parts")


def _text_parts(content: object) -> list[Part]:
    if isinstance(content, str):
        return [{"text": content}] if content else []
    if not isinstance(content, list):
        return []
    return [
        {"text": part["text"]}
        for part in content
        if isinstance(part, Mapping) and part.get("type") == "text" and isinstance(part.get("text"), str)
    ]


def _content_parts(content: object) -> list[Part]:
    if not isinstance(content, list):
        return _text_parts(content)
    parts: list[Part] = []
    for part in content:
        kind = part.get("type") if isinstance(part, Mapping) else None
        if kind == "text":
            parts.extend(_text_parts([part]))
        elif kind == "image_url" and isinstance(part, Mapping):
            parts.append(_image(part.get("image_url")))
        else:
            raise UnsupportedRequestError(f"Unsupported content part type: {kind!r}.", "messages")
    return parts


def _image(image_url: object) -> Part:
    url = image_url.get("url") if isinstance(image_url, Mapping) else image_url
    if not isinstance(url, str):
        raise UnsupportedRequestError("`image_url.url` must be a string.", "messages")
    if url.startswith("data:") and ";base64," in url:
        mime, data = url.removeprefix("data:").split(";base64,", 1)
        return {"inlineData": {"mimeType": mime, "data": data}}
    return {"fileData": {"mimeType": "image/*", "fileUri": url}}


def _function_calls(tool_calls: object, call_names: dict[str, str]) -> list[Part]:
    parts: list[Part] = []
    for call in tool_calls if isinstance(tool_calls, list) else []:
        function = call.get("function") if isinstance(call, Mapping) else None
        if not isinstance(call, Mapping) or not isinstance(function, Mapping):
            raise UnsupportedRequestError("Each tool call must be a function call.", "messages")
        name = str(function.get("name"))
        call_names[str(call.get("id"))] = name
        parts.append({"functionCall": {"name": name, "args": _arguments(function.get("arguments"))}})
    return parts


def _arguments(arguments: object) -> object:
    if not isinstance(arguments, str) or not arguments.strip():
        return {}
    try:
        return orjson.loads(arguments)
    except orjson.JSONDecodeError as exc:
        raise UnsupportedRequestError("Tool call arguments must be valid JSON.", "messages") from exc


def _function_response(message: Mapping[str, object], call_names: Mapping[str, str]) -> Part:
    call_id = str(message.get("tool_call_id"))
    if call_id not in call_names:
        raise UnsupportedRequestError(
            "A tool message must answer an earlier assistant tool call.", "messages"
        )
    content = message.get("content")
    text = content if isinstance(content, str) else " ".join(str(p["text"]) for p in _text_parts(content))
    return {"functionResponse": {"name": call_names[call_id], "response": {"content": text}}}


def _declarations(tools: object) -> list[Part]:
    declarations: list[Part] = []
    for tool in tools if isinstance(tools, list) else []:
        function = tool.get("function") if isinstance(tool, Mapping) else None
        if (
            not isinstance(tool, Mapping)
            or tool.get("type") != "function"
            or not isinstance(function, Mapping)
        ):
            raise UnsupportedRequestError("Only function tools are supported.", "tools")
        declaration: Part = {"name": function.get("name")}
        if isinstance(function.get("description"), str):
            declaration["description"] = function["description"]
        if isinstance(function.get("parameters"), Mapping):
            declaration["parameters"] = function["parameters"]
        declarations.append(declaration)
    return declarations


def _tool_config(choice: object) -> Part | None:
    if isinstance(choice, str) and choice in _TOOL_MODES:
        return {"functionCallingConfig": {"mode": _TOOL_MODES[choice]}}
    if isinstance(choice, Mapping) and isinstance(choice.get("function"), Mapping):
        name = choice["function"].get("name")
        return {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": [name]}}
    return None
