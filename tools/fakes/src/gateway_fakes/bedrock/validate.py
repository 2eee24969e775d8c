"""Validate a Converse request body as strictly as the real API (a message, or None if valid)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

_FIRST_USER: Final = (
    "A conversation must start with a user message. Try again with a conversation that starts with a "
    "user message."
)
_ALTERNATE: Final = (
    "A conversation must alternate between user and assistant roles. Make sure the conversation "
    "alternates between user and assistant roles and try again."
)

TOP_LEVEL: Final = frozenset(
    {
        "messages",
        "system",
        "inferenceConfig",
        "toolConfig",
        "guardrailConfig",
        "additionalModelRequestFields",
        "additionalModelResponseFieldPaths",
        "promptVariables",
        "requestMetadata",
        "performanceConfig",
    }
)
INFERENCE: Final = frozenset({"maxTokens", "temperature", "topP", "stopSequences"})
BLOCK_KINDS: Final = frozenset(
    {"text", "image", "document", "video", "toolUse", "toolResult", "reasoningContent"}
)


def validation_error(body: Mapping[str, object]) -> str | None:
    """The ValidationException message for `body`, or None when Converse would accept it."""
    extra = sorted(set(body) - TOP_LEVEL)
    if extra:
        return f"Malformed input request: extraneous key [{extra[0]}] is not permitted"
    inference = body.get("inferenceConfig", {})
    if not isinstance(inference, Mapping) or set(inference) - INFERENCE:
        return "Malformed input request: inferenceConfig has unknown keys"
    max_tokens = inference.get("maxTokens", 1)
    if not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens < 1:
        return "The maximum tokens you requested must be a positive integer."
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return _FIRST_USER
    tool_names = _tool_names(body.get("toolConfig"))
    if tool_names is None:
        return "The toolConfig field must be a valid tool configuration with at least one toolSpec."
    return _conversation_error(messages, tool_names, "toolConfig" in body)


def _tool_names(config: object) -> set[str] | None:
    if config is None:
        return set()
    tools = config.get("tools") if isinstance(config, Mapping) else None
    if not isinstance(tools, list) or not tools:
        return None
    names: set[str] = set()
    for tool in tools:
        spec = tool.get("toolSpec") if isinstance(tool, Mapping) else None
        schema = spec.get("inputSchema") if isinstance(spec, Mapping) else None
        if (
            not isinstance(spec, Mapping)
            or not isinstance(spec.get("name"), str)
            or not isinstance(schema, Mapping)
            or "json" not in schema
        ):
            return None
        names.add(str(spec["name"]))
    return names


def _conversation_error(messages: list[object], tool_names: set[str], has_tool_config: bool) -> str | None:
    expected_role = "user"
    open_tool_uses: set[str] = set()
    for index, message in enumerate(messages):
        if not isinstance(message, Mapping) or message.get("role") != expected_role:
            if index == 0:
                return _FIRST_USER
            return _ALTERNATE
        content = message.get("content")
        if not isinstance(content, list) or not content:
            return (
                f"The content field in the Message object at messages.{index} is empty. Add a "
                "ContentBlock object to the content field and try again."
            )
        tool_uses: set[str] = set()
        for block in content:
            if not isinstance(block, Mapping) or len(block) != 1 or next(iter(block)) not in BLOCK_KINDS:
                return f"Malformed input request: messages.{index}.content has an invalid ContentBlock"
            if "text" in block and (not isinstance(block["text"], str) or not block["text"].strip()):
                return (
                    f"The text field in the ContentBlock object at messages.{index}.content is blank. "
                    "Add text to the text field, and try again."
                )
            if ("toolUse" in block or "toolResult" in block) and not has_tool_config:
                return (
                    "The toolConfig field must be defined when using toolUse and toolResult content blocks."
                )
            tool_use = block.get("toolUse")
            if isinstance(tool_use, Mapping):
                if tool_use.get("name") not in tool_names:
                    return f"The tool {tool_use.get('name')!r} is not in toolConfig."
                tool_uses.add(str(tool_use.get("toolUseId")))
            tool_result = block.get("toolResult")
            if isinstance(tool_result, Mapping) and tool_result.get("toolUseId") not in open_tool_uses:
                return (
                    "The toolUseId of a toolResult block does not match a toolUse block of the previous turn."
                )
        open_tool_uses = tool_uses
        expected_role = "assistant" if expected_role == "user" else "user"
    return None
