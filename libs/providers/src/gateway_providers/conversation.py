"""Folding OpenAI chat messages into the system-plus-alternating-turns shape that Anthropic's
Messages API, Bedrock's Converse API and Gemini's generateContent share.

Both want the system prompt apart, user and assistant turns strictly alternating (consecutive
messages of one role merged), tool calls as blocks of the assistant turn and tool results as blocks
of the next user turn. Only the blocks themselves differ, so each adapter passes its own
`BlockBuilders` and this module does the folding once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import orjson

from gateway_providers.base import UnsupportedRequestError

Block = dict[str, object]


@dataclass(frozen=True)
class BlockBuilders:
    """How one provider writes each kind of content as blocks."""

    text: Callable[[object], list[Block]]
    content: Callable[[object], list[Block]]
    tool_uses: Callable[[object], list[Block]]
    tool_result: Callable[[Mapping[str, object]], Block]


def fold_conversation(
    messages: object, build: BlockBuilders, *, assistant_role: str = "assistant", content_key: str = "content"
) -> tuple[list[Block], list[Block]]:
    """(system blocks, alternating user/assistant turns as {"role", content_key} mappings).

    Gemini names the assistant "model" and a turn's blocks "parts"; the others use the defaults.
    """
    if not isinstance(messages, list):
        raise UnsupportedRequestError("`messages` must be a list.", "messages")
    system: list[Block] = []
    turns: list[tuple[str, list[Block]]] = []
    for message in messages:
        if not isinstance(message, Mapping):
            raise UnsupportedRequestError("Each message must be an object.", "messages")
        role = message.get("role")
        content = message.get("content")
        if role in ("system", "developer"):
            system.extend(build.text(content))
        elif role == "user":
            _append(turns, "user", build.content(content))
        elif role == "assistant":
            _append(turns, assistant_role, build.text(content) + build.tool_uses(message.get("tool_calls")))
        elif role == "tool":
            _append(turns, "user", [build.tool_result(message)])
        else:
            raise UnsupportedRequestError(f"Unsupported message role: {role!r}.", "messages")
    return system, [{"role": role, content_key: blocks} for role, blocks in turns]


def _append(turns: list[tuple[str, list[Block]]], role: str, blocks: list[Block]) -> None:
    if not blocks:
        return
    if turns and turns[-1][0] == role:
        turns[-1][1].extend(blocks)
    else:
        turns.append((role, blocks))


def tool_arguments(arguments: object) -> object:
    """An OpenAI tool call's JSON-text arguments as the object both APIs expect."""
    if not isinstance(arguments, str) or not arguments.strip():
        return {}
    try:
        return orjson.loads(arguments)
    except orjson.JSONDecodeError as exc:
        raise UnsupportedRequestError("Tool call arguments must be valid JSON.", "messages") from exc
