"""Incremental server-sent-events splitter.

Upstream chunks can end anywhere: inside a UTF-8 character, inside a line, or between
the `\\r` and `\\n` of a CRLF. The splitter works on bytes, decodes a line only once it
is complete, and hands back each event's exact raw bytes so the proxy can forward them
untouched. Line endings follow the SSE spec: CRLF, LF or a lone CR.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_LINE_END = re.compile(rb"[\r\n]")
_BOM = b"\xef\xbb\xbf"
DEFAULT_MAX_EVENT_BYTES = 8 * 1024 * 1024


class SSEError(ValueError):
    """The stream cannot be split (an event grew past the size limit)."""


@dataclass(slots=True)  # not frozen: a frozen dataclass's __init__ is several times slower
class SSEEvent:
    """One complete event: raw bytes up to and including its blank line, and its fields.

    `data` joins the event's `data:` lines with `\\n` (None when it had none, e.g. a
    `: keep-alive` comment); `event` is the `event:` field, if any.
    """

    raw: bytes
    event: str | None
    data: str | None


class SSESplitter:
    """Split a byte stream into `SSEEvent`s as they complete; one instance per stream."""

    def __init__(self, max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES) -> None:
        self._max_event_bytes = max_event_bytes
        self._buf = bytearray()
        self._pos = 0  # start of the first line not yet parsed
        self._at_stream_start = True
        self._event: str | None = None
        self._data: list[str] = []
        self._has_lines = False

    @property
    def pending_bytes(self) -> int:
        """Bytes received that do not yet form a complete event."""
        return len(self._buf)

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        """Consume `chunk` and return every event it completed, in order."""
        self._buf += chunk
        if self._at_stream_start:
            if len(self._buf) < len(_BOM) and _BOM.startswith(bytes(self._buf)):
                return []
            if self._buf.startswith(_BOM):
                del self._buf[: len(_BOM)]
            self._at_stream_start = False
        if self._pos == 0 and not self._has_lines and b"\r" not in self._buf:
            events = self._split_lf_events()
        else:
            events = self._split_lines()
        if len(self._buf) > self._max_event_bytes:
            raise SSEError(f"server-sent event larger than {self._max_event_bytes} bytes")
        return events

    def _split_lf_events(self) -> list[SSEEvent]:
        """The common case, a buffer at an event boundary with only LF line endings: the buffer
        is cut at every blank line in one C-level split, and what follows the last one (an event
        not yet complete) stays buffered."""
        parts = bytes(self._buf).split(b"\n\n")
        self._buf = bytearray(parts.pop())
        events: list[SSEEvent] = []
        for part in parts:
            if not part or part.startswith(b"\n"):
                part = part.lstrip(b"\n")  # stray blank lines: no event
                if not part:
                    continue
            raw = part + b"\n\n"
            if part.startswith(b"data:") and b"\n" not in part:
                # One `data:` line, the shape of nearly every event: no per-line bookkeeping.
                value = part[6:] if part.startswith(b" ", 5) else part[5:]
                events.append(SSEEvent(raw, None, value.decode("utf-8", errors="replace")))
            else:
                for line in part.split(b"\n"):
                    self._take_line(line)
                events.append(SSEEvent(raw, self._event, self._joined_data()))
                self._event, self._data, self._has_lines = None, [], False
        return events

    def _split_lines(self) -> list[SSEEvent]:
        """Line by line, for CR line endings and events already partly parsed."""
        events: list[SSEEvent] = []
        while (line_end := self._next_line_end()) is not None:
            content_end, next_pos = line_end
            line = bytes(self._buf[self._pos : content_end])
            self._pos = next_pos
            if line:
                self._take_line(line)
                continue
            if self._has_lines:
                events.append(SSEEvent(bytes(self._buf[:next_pos]), self._event, self._joined_data()))
            # Drop the finished event (or a stray blank line) so the buffer stays small.
            del self._buf[:next_pos]
            self._pos = 0
            self._event, self._data, self._has_lines = None, [], False
        return events

    def _next_line_end(self) -> tuple[int, int] | None:
        """Find the next line ending: (end of line content, start of next line), or None."""
        match = _LINE_END.search(self._buf, self._pos)
        if match is None:
            return None
        at = match.start()
        if self._buf[at] == 0x0A:
            return at, at + 1
        if at + 1 >= len(self._buf):
            return None  # a CR at the end of the chunk may be half of a CRLF: wait
        return at, at + 2 if self._buf[at + 1] == 0x0A else at + 1

    def _take_line(self, line: bytes) -> None:
        self._has_lines = True
        if line.startswith(b":"):
            return  # comment (keep-alive); kept in raw only
        name, sep, value = line.partition(b":")
        if sep and value.startswith(b" "):
            value = value[1:]
        if name == b"data":
            self._data.append(value.decode("utf-8", errors="replace"))
        elif name == b"event":
            self._event = value.decode("utf-8", errors="replace")

    def _joined_data(self) -> str | None:
        return "\n".join(self._data) if self._data else None
