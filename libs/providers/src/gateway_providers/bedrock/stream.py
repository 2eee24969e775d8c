"""ConverseStream (AWS event-stream binary framing) -> OpenAI `chat.completion.chunk` SSE events.

Frames are split and CRC-checked by botocore's `EventStreamBuffer`; a corrupt frame
raises `SSEError`, which the proxy's relay reports as an interrupted stream.

| event-stream message (`:event-type`)      | emitted                                            |
|-------------------------------------------|----------------------------------------------------|
| `messageStart`                            | chunk `delta: {role: assistant, content: ""}`      |
| `contentBlockStart` (toolUse)             | chunk with the tool call's id, name, `arguments: ""`|
| `contentBlockDelta` text                  | chunk `delta: {content}`                           |
| `contentBlockDelta` toolUse.input         | chunk `delta: {tool_calls: [{index, arguments}]}`  |
| `contentBlockStop`, reasoning deltas      | nothing                                            |
| `messageStop`                             | chunk `delta: {}` with the mapped `finish_reason`  |
| `metadata`                                | the usage chunk (`choices: []`), then `[DONE]`     |
| `:message-type: exception`                | `data: {"error": {...}}` carrying a ProviderError  |
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Mapping
from typing import Final

import orjson
from botocore.eventstream import EventStreamBuffer, EventStreamMessage, ParserError

from gateway_providers.anthropic.response import openai_usage
from gateway_providers.base import DONE, StreamEvent, Usage
from gateway_providers.bedrock.errors import stream_error_from_bedrock
from gateway_providers.bedrock.response import finish_reason, usage_from_converse
from gateway_providers.sse import SSEError

_DONE_RAW: Final = b"data: [DONE]\n\n"

Payload = Mapping[str, object]


class BedrockStreamParser:
    """Incremental translator for one ConverseStream response; create one per request."""

    def __init__(self, *, model_alias: str | None = None, created: int | None = None) -> None:
        self._buffer = EventStreamBuffer()
        self._model_alias = model_alias
        self._created = int(time.time()) if created is None else created
        self._id = f"chatcmpl-{secrets.token_hex(12)}"
        self._usage: Usage | None = None
        self._saw_done = False
        self._tool_index: dict[int, int] = {}  # Converse content block index -> OpenAI tool call index
        self._handlers: Mapping[str, Callable[[Payload], list[StreamEvent]]] = {
            "messageStart": self._message_start,
            "contentBlockStart": self._block_start,
            "contentBlockDelta": self._block_delta,
            "messageStop": self._message_stop,
            "metadata": self._metadata,
        }

    @property
    def usage(self) -> Usage | None:
        """The usage from the `metadata` event, once it arrived."""
        return self._usage

    @property
    def saw_done(self) -> bool:
        """Whether the final `metadata` event arrived."""
        return self._saw_done

    def feed(self, chunk: bytes) -> list[StreamEvent]:
        """Consume `chunk` (split anywhere) and return the OpenAI events it completed, in order."""
        self._buffer.add_data(chunk)
        events: list[StreamEvent] = []
        try:
            for message in self._buffer:
                events.extend(self._translate(message))
        except ParserError as exc:
            raise SSEError(f"corrupt AWS event-stream frame: {exc}") from exc
        return events

    def _translate(self, message: EventStreamMessage) -> list[StreamEvent]:
        # The botocore stubs mistype `EventStreamMessage.headers`; the response dict is typed right.
        response = message.to_response_dict()
        headers: Mapping[str, object] = response["headers"]
        message_type = headers.get(":message-type")
        if message_type in ("exception", "error"):
            exception_type = headers.get(":exception-type") or headers.get(":error-code")
            return [self._error(str(exception_type) if exception_type else None, message.payload)]
        try:
            payload = orjson.loads(message.payload)
        except orjson.JSONDecodeError:
            return []
        handler = self._handlers.get(str(headers.get(":event-type")))
        return handler(payload) if handler is not None and isinstance(payload, dict) else []

    def _message_start(self, payload: Payload) -> list[StreamEvent]:
        return [self._chunk({"role": "assistant", "content": "", "refusal": None})]

    def _block_start(self, payload: Payload) -> list[StreamEvent]:
        start = payload.get("start")
        tool_use = start.get("toolUse") if isinstance(start, Mapping) else None
        if not isinstance(tool_use, Mapping):
            return []
        tool_index = len(self._tool_index)
        self._tool_index[_int(payload.get("contentBlockIndex"))] = tool_index
        call = {
            "index": tool_index,
            "id": tool_use.get("toolUseId"),
            "type": "function",
            "function": {"name": tool_use.get("name"), "arguments": ""},
        }
        return [self._chunk({"tool_calls": [call]})]

    def _block_delta(self, payload: Payload) -> list[StreamEvent]:
        delta = payload.get("delta")
        if not isinstance(delta, Mapping):
            return []
        if isinstance(delta.get("text"), str):
            return [self._chunk({"content": delta["text"]})]
        tool_use = delta.get("toolUse")
        if isinstance(tool_use, Mapping):
            tool_index = self._tool_index.get(_int(payload.get("contentBlockIndex")), 0)
            call = {"index": tool_index, "function": {"arguments": tool_use.get("input", "")}}
            return [self._chunk({"tool_calls": [call]})]
        return []  # reasoningContent deltas have no chat.completion.chunk field

    def _message_stop(self, payload: Payload) -> list[StreamEvent]:
        return [self._chunk({}, finish_reason(payload.get("stopReason")))]

    def _metadata(self, payload: Payload) -> list[StreamEvent]:
        self._saw_done = True
        self._usage = usage_from_converse(payload.get("usage")) or Usage()
        data = {**self._envelope(), "choices": [], "usage": openai_usage(self._usage)}
        return [StreamEvent(_render(data), None, data, self._usage), StreamEvent(_DONE_RAW, None, DONE)]

    def _error(self, exception_type: str | None, payload: bytes) -> StreamEvent:
        error = stream_error_from_bedrock(exception_type, payload)
        data: dict[str, object] = {
            "error": {"message": error.message, "type": error.type, "param": None, "code": error.code}
        }
        return StreamEvent(_render(data), None, data, None, error)

    def _envelope(self) -> dict[str, object]:
        return {
            "id": self._id,
            "object": "chat.completion.chunk",
            "created": self._created,
            "model": self._model_alias or "",
        }

    def _chunk(self, delta: dict[str, object], finish: str | None = None) -> StreamEvent:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        data = {**self._envelope(), "choices": [choice]}
        return StreamEvent(_render(data), None, data)


def _render(data: dict[str, object]) -> bytes:
    return b"data: " + orjson.dumps(data) + b"\n\n"


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0
