"""A chat completions SSE stream -> the Messages API's event stream, event by event.

Each chat chunk is translated as it arrives (nothing is held back beyond the end of the turn):

- the first chunk opens the message: `message_start` (input tokens are not known yet: 0);
- text deltas go into a `text` block, tool call deltas into a `tool_use` block per call
  (`content_block_start`, `content_block_delta` with `text_delta` / `input_json_delta`, and
  `content_block_stop` when the next block opens or the turn ends);
- the finish reason and the usage chunk (the gateway always asks the upstream for one) are
  kept until `data: [DONE]`, which becomes `message_delta` (stop reason and the whole usage,
  input tokens included) and `message_stop`;
- an OpenAI error event (a mid-stream failure, the idle timeout) becomes an `error` event.
"""

from __future__ import annotations

from collections.abc import Mapping

import orjson
from gateway_providers.sse import SSESplitter

from gateway_proxy.messages_api.response import (
    Json,
    error_body,
    message_id,
    message_usage,
    stop_reason,
    tool_use_block,
)

_DONE = "[DONE]"


def sse(event: str, payload: Json) -> bytes:
    """One Messages API event: its `event:` name and its JSON `data:`."""
    return b"event: " + event.encode() + b"\ndata: " + orjson.dumps(payload) + b"\n\n"


class MessagesStream:
    """Translates one chat completions stream; feed it the relay's bytes, then `close()`."""

    def __init__(self) -> None:
        self._splitter = SSESplitter()
        self._started = False
        self._ended = False
        self._open_block: int | None = None  # the index of the block that is open, if any
        self._open_is_text = False
        self._blocks = 0
        self._tool_blocks: dict[int, int] = {}  # the chunk's tool call index -> block index
        self._stop_reason: str | None = None
        self._usage_chunk: Mapping[str, object] = {}  # the chunk that carried the usage, if any

    def feed(self, data: bytes) -> bytes:
        """The Messages events for the chat events `data` completes (bytes may split anywhere)."""
        out: list[bytes] = []
        for event in self._splitter.feed(data):
            if self._ended or event.data is None:
                continue  # comments (keep-alives) and anything after the end
            if event.data == _DONE:
                out.append(self._finish())
                continue
            try:
                chunk = orjson.loads(event.data)
            except orjson.JSONDecodeError:
                continue
            if isinstance(chunk, Mapping):
                out.append(self._chunk(chunk))
        return b"".join(out)

    def close(self) -> bytes:
        """What ends a stream that stopped without `[DONE]` or an error event: an `error` event."""
        if self._ended:
            return b""
        self._ended = True
        return _error_event(502, "The upstream stream ended before it was complete.")

    def _chunk(self, chunk: Mapping[str, object]) -> bytes:
        error = chunk.get("error")
        if isinstance(error, Mapping):
            self._ended = True
            message = error.get("message")
            status = 504 if error.get("type") == "timeout_error" else 500
            return _error_event(status, message if isinstance(message, str) else "The stream failed.")
        out: list[bytes] = []
        if not self._started:
            self._started = True
            out.append(self._message_start(chunk))
        if chunk.get("usage") is not None:
            self._usage_chunk = chunk
        choices = chunk.get("choices")
        choice = choices[0] if isinstance(choices, list) and choices else None
        if isinstance(choice, Mapping):
            delta = choice.get("delta")
            if isinstance(delta, Mapping):
                out.append(self._delta(delta))
            reason = stop_reason(choice.get("finish_reason"))
            if reason is not None:
                self._stop_reason = reason
        return b"".join(out)

    def _message_start(self, chunk: Mapping[str, object]) -> bytes:
        message: Json = {
            "id": message_id(chunk.get("id")),
            "type": "message",
            "role": "assistant",
            "model": chunk.get("model"),
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": message_usage({}),
        }
        return sse("message_start", {"type": "message_start", "message": message})

    def _delta(self, delta: Mapping[str, object]) -> bytes:
        out: list[bytes] = []
        text = delta.get("content")
        if isinstance(text, str) and text:
            if self._open_block is None or not self._open_is_text:
                out.append(self._open({"type": "text", "text": ""}, is_text=True))
            out.append(self._block_delta(self._open_block, {"type": "text_delta", "text": text}))
        calls = delta.get("tool_calls")
        for call in calls if isinstance(calls, list) else []:
            out.append(self._tool_call(call))
        return b"".join(out)

    def _tool_call(self, call: object) -> bytes:
        if not isinstance(call, Mapping):
            return b""
        index = call.get("index", 0)
        index = index if isinstance(index, int) else 0
        out: list[bytes] = []
        block = self._tool_blocks.get(index)
        if block is None:
            start = tool_use_block(call)
            if start is None:
                return b""
            out.append(self._open(start, is_text=False))
            block = self._tool_blocks[index] = self._blocks - 1
        function = call.get("function")
        arguments = function.get("arguments") if isinstance(function, Mapping) else None
        if isinstance(arguments, str) and arguments:
            out.append(self._block_delta(block, {"type": "input_json_delta", "partial_json": arguments}))
        return b"".join(out)

    def _open(self, content_block: Json, *, is_text: bool) -> bytes:
        closed = self._close_block()
        index = self._blocks
        self._blocks += 1
        self._open_block, self._open_is_text = index, is_text
        start = {"type": "content_block_start", "index": index, "content_block": content_block}
        return closed + sse("content_block_start", start)

    def _close_block(self) -> bytes:
        if self._open_block is None:
            return b""
        index, self._open_block = self._open_block, None
        return sse("content_block_stop", {"type": "content_block_stop", "index": index})

    @staticmethod
    def _block_delta(index: int | None, delta: Json) -> bytes:
        return sse("content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta})

    def _finish(self) -> bytes:
        self._ended = True
        out = [] if self._started else [self._message_start({})]
        out.append(self._close_block())
        delta = {"stop_reason": self._stop_reason or "end_turn", "stop_sequence": None}
        usage = message_usage(self._usage_chunk)
        out.append(sse("message_delta", {"type": "message_delta", "delta": delta, "usage": usage}))
        out.append(sse("message_stop", {"type": "message_stop"}))
        return b"".join(out)


def _error_event(status: int, message: str) -> bytes:
    return b"event: error\ndata: " + error_body(status, message, None) + b"\n\n"
