"""Request validation as strict as the real Messages API's (so adapter mistakes surface).

The real API rejects unknown top-level fields ("Extra inputs are not permitted"), a
missing `max_tokens`, empty text blocks, a `tool_result` that answers no `tool_use` of
the previous assistant turn, and roles other than user/assistant.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

KNOWN_FIELDS: Final = frozenset(
    {
        "model",
        "messages",
        "max_tokens",
        "system",
        "stop_sequences",
        "temperature",
        "top_p",
        "top_k",
        "stream",
        "metadata",
        "tools",
        "tool_choice",
        "thinking",
        "service_tier",
    }
)
BLOCK_TYPES: Final = frozenset({"text", "image", "tool_use", "tool_result", "document", "thinking"})
TOOL_CHOICE_TYPES: Final = frozenset({"auto", "any", "tool", "none"})


def validation_error(body: Mapping[str, object]) -> str | None:
    """The message the real API would answer with, or None when the body is valid."""
    extra = sorted(set(body) - KNOWN_FIELDS)
    if extra:
        return f"{extra[0]}: Extra inputs are not permitted"
    if not isinstance(body.get("model"), str) or not body["model"]:
        return "model: Field required"
    max_tokens = body.get("max_tokens")
    if not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens < 1:
        return "max_tokens: Field required"
    system = body.get("system")
    if system is not None and not isinstance(system, str) and not _text_blocks_ok(system):
        return "system: Input should be a valid string or a list of text blocks"
    choice = body.get("tool_choice")
    if choice is not None and (
        not isinstance(choice, Mapping) or choice.get("type") not in TOOL_CHOICE_TYPES
    ):
        return "tool_choice: Input tag does not match any of the expected tags"
    tools = body.get("tools")
    if tools is not None and not _tools_ok(tools):
        return "tools: each tool needs a name and an input_schema object"
    return _messages_error(body.get("messages"))


def _messages_error(messages: object) -> str | None:
    if not isinstance(messages, list) or not messages:
        return "messages: Field required"
    open_tool_uses: set[str] = set()
    for index, message in enumerate(messages):
        if not isinstance(message, Mapping) or message.get("role") not in ("user", "assistant"):
            return f"messages.{index}.role: Input should be 'user' or 'assistant'"
        content = message.get("content")
        if isinstance(content, str):
            if not content:
                return f"messages.{index}: text content blocks must be non-empty"
            continue
        if not isinstance(content, list) or not content:
            return f"messages.{index}.content: Input should be a valid list"
        for block in content:
            error = _block_error(block, index, open_tool_uses)
            if error is not None:
                return error
        uses = {str(b.get("id")) for b in content if isinstance(b, Mapping) and b.get("type") == "tool_use"}
        open_tool_uses = uses
    return None


def _block_error(block: object, index: int, open_tool_uses: set[str]) -> str | None:
    if not isinstance(block, Mapping) or block.get("type") not in BLOCK_TYPES:
        return f"messages.{index}.content: Input tag does not match any of the expected tags"
    kind = block["type"]
    if kind == "text" and not _text_ok(block):
        return f"messages.{index}: text content blocks must be non-empty"
    if kind == "image":
        source = block.get("source")
        if not isinstance(source, Mapping) or source.get("type") not in ("base64", "url"):
            return f"messages.{index}.content.image.source: Input tag does not match any of the expected tags"
    if kind == "tool_result" and block.get("tool_use_id") not in open_tool_uses:
        return (
            f"messages.{index}.content: unexpected `tool_use_id` found in `tool_result` blocks: "
            f"{block.get('tool_use_id')}. Each `tool_result` block must have a corresponding `tool_use` "
            "block in the previous message."
        )
    if kind == "tool_use" and not (
        isinstance(block.get("id"), str) and isinstance(block.get("input"), Mapping)
    ):
        return f"messages.{index}.content.tool_use: id and input are required"
    return None


def _text_blocks_ok(blocks: object) -> bool:
    return isinstance(blocks, list) and all(_text_ok(block) for block in blocks)


def _text_ok(block: object) -> bool:
    return isinstance(block, Mapping) and isinstance(block.get("text"), str) and bool(block["text"])


def _tools_ok(tools: object) -> bool:
    return isinstance(tools, list) and all(
        isinstance(t, Mapping)
        and isinstance(t.get("name"), str)
        and isinstance(t.get("input_schema"), Mapping)
        for t in tools
    )
