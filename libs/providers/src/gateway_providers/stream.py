"""Parse a stream of JSON server-sent events (OpenAI's chat/completions streaming format).

Each complete event comes back with its raw bytes (to forward), its parsed JSON or the
`[DONE]` marker, the usage it carries, and any mid-stream error. The parser remembers
the last usage seen, because OpenAI sends it in the final `choices: []` chunk and
some compatible servers send a running total on every chunk.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import orjson

from gateway_providers.base import DONE, DoneMarker, StreamEvent, Usage
from gateway_providers.errors import stream_error_from_payload
from gateway_providers.sse import SSEEvent, SSESplitter
from gateway_providers.usage import usage_from_payload

UsageExtractor = Callable[[Mapping[str, object]], Usage | None]


class JSONStreamParser:
    """Incremental parser for one streamed response; create one per request.

    When `model_alias` is given, every event whose JSON has a `model` field is
    re-serialised with the alias (the only case where raw bytes are not the upstream's).
    """

    def __init__(
        self, *, model_alias: str | None = None, usage_extractor: UsageExtractor = usage_from_payload
    ) -> None:
        self._splitter = SSESplitter()
        self._model_alias = model_alias
        self._usage_extractor = usage_extractor
        self._usage: Usage | None = None
        self._saw_done = False

    @property
    def usage(self) -> Usage | None:
        """The last usage seen so far."""
        return self._usage

    @property
    def saw_done(self) -> bool:
        """Whether `data: [DONE]` arrived."""
        return self._saw_done

    @property
    def pending_bytes(self) -> int:
        """Bytes buffered towards an event that has not completed yet."""
        return self._splitter.pending_bytes

    def feed(self, chunk: bytes) -> list[StreamEvent]:
        """Consume `chunk` (split anywhere) and return the events it completed, in order."""
        return [self._parse(event) for event in self._splitter.feed(chunk)]

    def _parse(self, event: SSEEvent) -> StreamEvent:
        data = _decode_data(event.data)
        if data is DONE:
            self._saw_done = True
            return StreamEvent(event.raw, event.event, DONE)
        if data is None:
            return StreamEvent(event.raw, event.event, None)
        usage = self._usage_extractor(data)
        if usage is not None:
            self._usage = usage
        raw = event.raw
        if self._model_alias is not None and "model" in data:
            data["model"] = self._model_alias
            raw = _render(event.event, data)
        return StreamEvent(raw, event.event, data, usage, stream_error_from_payload(data))


def _decode_data(data: str | None) -> dict[str, object] | DoneMarker | None:
    if data is None:
        return None
    if not data.startswith("{") and data.strip() == DONE.value:
        return DONE
    try:
        parsed = orjson.loads(data)
    except orjson.JSONDecodeError:
        return None
    return parsed if isinstance(parsed, dict) else None


def _render(event_name: str | None, data: dict[str, object]) -> bytes:
    prefix = f"event: {event_name}\n".encode() if event_name is not None else b""
    return prefix + b"data: " + orjson.dumps(data) + b"\n\n"
