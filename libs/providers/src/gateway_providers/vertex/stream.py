"""Gemini `streamGenerateContent?alt=sse` -> OpenAI `chat.completion.chunk` events.

Each SSE event carries a whole `GenerateContentResponse` fragment. The first becomes a
`role: assistant` chunk; text parts become content deltas; a function call arrives whole
and becomes one tool call chunk; the event with `finishReason` becomes the finish chunk,
then the usage chunk (`choices: []`, from the latest `usageMetadata`) and `[DONE]`.
Gemini sends no end marker, so the finish reason marks the end. An `error` object in an
event becomes OpenAI's SSE error event.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping
from typing import Final

import orjson

from gateway_providers.base import DONE, StreamEvent, Usage
from gateway_providers.errors import stream_error_from_payload
from gateway_providers.sse import SSEEvent, SSESplitter
from gateway_providers.vertex.response import (
    candidate_parts,
    finish_reason,
    openai_usage,
    tool_call,
    usage_from_gemini,
)

_DONE_RAW: Final = b"data: [DONE]\n\n"


class GeminiStreamParser:
    """Incremental translator for one Gemini SSE stream; create one per request."""

    def __init__(self, *, model_alias: str | None = None, created: int | None = None) -> None:
        self._splitter = SSESplitter()
        self._model_alias = model_alias
        self._created = int(time.time()) if created is None else created
        self._id = f"chatcmpl-{secrets.token_hex(12)}"
        self._model = ""
        self._usage: Usage | None = None
        self._saw_done = False
        self._started = False
        self._calls = 0

    @property
    def usage(self) -> Usage | None:
        """The latest `usageMetadata` seen."""
        return self._usage

    @property
    def saw_done(self) -> bool:
        """Whether a candidate finished."""
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
        error = stream_error_from_payload(payload)
        if error is not None:
            data: dict[str, object] = {
                "error": {"message": error.message, "type": error.type, "param": None, "code": error.code}
            }
            return [StreamEvent(_render(data), None, data, None, error)]
        if isinstance(payload.get("modelVersion"), str):
            self._model = payload["modelVersion"]
        usage = usage_from_gemini(payload.get("usageMetadata"))
        if usage is not None:
            self._usage = usage
        events: list[StreamEvent] = []
        if not self._started:
            self._started = True
            events.append(self._chunk({"role": "assistant", "content": "", "refusal": None}))
        candidates = payload.get("candidates")
        candidate = candidates[0] if isinstance(candidates, list) and candidates else None
        if not isinstance(candidate, Mapping):
            return events
        texts, calls = candidate_parts(candidate)
        if texts:
            events.append(self._chunk({"content": "".join(texts)}))
        for name, args in calls:
            call = {"index": self._calls, **tool_call(self._calls, name, args)}
            self._calls += 1
            events.append(self._chunk({"tool_calls": [call]}))
        if candidate.get("finishReason"):
            events.extend(self._finish(candidate.get("finishReason")))
        return events

    def _finish(self, reason: object) -> list[StreamEvent]:
        self._saw_done = True
        usage = self._usage or Usage()
        data = {**self._envelope(), "choices": [], "usage": openai_usage(usage)}
        return [
            self._chunk({}, finish_reason(reason, self._calls > 0)),
            StreamEvent(_render(data), None, data, usage),
            StreamEvent(_DONE_RAW, None, DONE),
        ]

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
