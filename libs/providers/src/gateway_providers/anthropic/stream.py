"""Anthropic Messages SSE -> OpenAI `chat.completion.chunk` events.

| Anthropic event                          | emitted                                            |
|------------------------------------------|----------------------------------------------------|
| `message_start`                          | chunk `delta: {role: assistant, content: ""}`      |
| `content_block_start` (text)             | nothing                                            |
| `content_block_start` (tool_use)         | chunk with the tool call's id, name, `arguments: ""`|
| `content_block_delta` text_delta         | chunk `delta: {content}`                           |
| `content_block_delta` input_json_delta   | chunk `delta: {tool_calls: [{index, arguments}]}`  |
| `content_block_stop`, `ping`, thinking   | nothing                                            |
| `message_delta`                          | chunk `delta: {}` with the mapped `finish_reason`  |
| `message_stop`                           | the usage chunk (`choices: []`), then `[DONE]`     |
| `error`                                  | `data: {"error": {...}}` carrying a ProviderError  |

Input tokens arrive in `message_start`, output tokens (cumulative) in `message_delta`;
the final usage chunk combines them, so the proxy can drop it (`is_usage_only`) when
the client did not ask for usage, exactly as with OpenAI upstreams.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Final

import orjson

from gateway_providers.anthropic.errors import stream_error_from_anthropic
from gateway_providers.anthropic.response import finish_reason, openai_usage, usage_from_anthropic
from gateway_providers.base import DONE, StreamEvent, Usage
from gateway_providers.sse import SSEEvent, SSESplitter

_DONE_RAW: Final = b"data: [DONE]\n\n"

Payload = Mapping[str, object]


class AnthropicStreamParser:
    """Incremental translator for one streamed Messages response; create one per request."""

    def __init__(self, *, model_alias: str | None = None, created: int | None = None) -> None:
        self._splitter = SSESplitter()
        self._model_alias = model_alias
        self._created = int(time.time()) if created is None else created
        self._id = ""
        self._model = ""
        self._start_usage: Payload = {}
        self._usage: Usage | None = None
        self._saw_done = False
        self._tool_index: dict[int, int] = {}  # Anthropic content block index -> OpenAI tool call index
        self._handlers: Mapping[str, Callable[[Payload], list[StreamEvent]]] = {
            "message_start": self._message_start,
            "content_block_start": self._block_start,
            "content_block_delta": self._block_delta,
            "message_delta": self._message_delta,
            "message_stop": self._message_stop,
            "error": self._error,
        }

    @property
    def usage(self) -> Usage | None:
        """Usage so far: input tokens from `message_start`, output tokens from `message_delta`."""
        return self._usage

    @property
    def saw_done(self) -> bool:
        """Whether `message_stop` arrived."""
        return self._saw_done

    def feed(self, chunk: bytes) -> list[StreamEvent]:
        """Consume `chunk` (split anywhere) and return the OpenAI events it completed, in order."""
        events: list[StreamEvent] = []
        for event in self._splitter.feed(chunk):
            events.extend(self._translate(event))
        return events

    def _translate(self, event: SSEEvent) -> list[StreamEvent]:
        if event.data is None:
            return []
        try:
            payload = orjson.loads(event.data)
        except orjson.JSONDecodeError:
            return []
        if not isinstance(payload, dict):
            return []
        kind = payload.get("type", event.event)
        handler = self._handlers.get(kind) if isinstance(kind, str) else None
        return handler(payload) if handler is not None else []

    def _message_start(self, payload: Payload) -> list[StreamEvent]:
        message = payload.get("message")
        message = message if isinstance(message, Mapping) else {}
        self._id = str(message.get("id") or "")
        self._model = str(message.get("model") or "")
        start_usage = message.get("usage")
        self._start_usage = start_usage if isinstance(start_usage, Mapping) else {}
        self._usage = usage_from_anthropic({**self._start_usage, "output_tokens": 0})
        return [self._chunk({"role": "assistant", "content": "", "refusal": None})]

    def _block_start(self, payload: Payload) -> list[StreamEvent]:
        block = payload.get("content_block")
        if not isinstance(block, Mapping) or block.get("type") != "tool_use":
            return []
        tool_index = len(self._tool_index)
        self._tool_index[_int(payload.get("index"))] = tool_index
        call = {
            "index": tool_index,
            "id": block.get("id"),
            "type": "function",
            "function": {"name": block.get("name"), "arguments": ""},
        }
        return [self._chunk({"tool_calls": [call]})]

    def _block_delta(self, payload: Payload) -> list[StreamEvent]:
        delta = payload.get("delta")
        if not isinstance(delta, Mapping):
            return []
        if delta.get("type") == "text_delta":
            return [self._chunk({"content": delta.get("text", "")})]
        if delta.get("type") == "input_json_delta":
            tool_index = self._tool_index.get(_int(payload.get("index")), 0)
            call = {"index": tool_index, "function": {"arguments": delta.get("partial_json", "")}}
            return [self._chunk({"tool_calls": [call]})]
        return []  # thinking and signature deltas have no chat.completion.chunk field

    def _message_delta(self, payload: Payload) -> list[StreamEvent]:
        usage = payload.get("usage")
        if isinstance(usage, Mapping):
            # Later API versions repeat the input counts here; the latest value wins.
            self._usage = usage_from_anthropic({**self._start_usage, **usage})
        delta = payload.get("delta")
        stop_reason = delta.get("stop_reason") if isinstance(delta, Mapping) else None
        return [self._chunk({}, finish_reason(stop_reason))]

    def _message_stop(self, payload: Payload) -> list[StreamEvent]:
        self._saw_done = True
        usage = self._usage or Usage()
        data = {**self._envelope(), "choices": [], "usage": openai_usage(usage)}
        return [
            StreamEvent(_render(data), None, data, usage),
            StreamEvent(_DONE_RAW, None, DONE),
        ]

    def _error(self, payload: Payload) -> list[StreamEvent]:
        error = stream_error_from_anthropic(payload)
        data: dict[str, object] = {
            "error": {"message": error.message, "type": error.type, "param": None, "code": error.code}
        }
        return [StreamEvent(_render(data), None, data, None, error)]

    def _envelope(self) -> dict[str, object]:
        return {
            "id": self._id,
            "object": "chat.completion.chunk",
            "created": self._created,
            "model": self._model_alias or self._model,
        }

    def _chunk(self, delta: dict[str, object], finish: str | None = None) -> StreamEvent:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        data = {**self._envelope(), "choices": [choice]}
        return StreamEvent(_render(data), None, data)


def _render(data: dict[str, object]) -> bytes:
    return b"data: " + orjson.dumps(data) + b"\n\n"


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0
