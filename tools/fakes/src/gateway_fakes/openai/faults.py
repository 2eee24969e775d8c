"""Header-driven behaviour, in the spirit of envoyproxy/ai-gateway's test upstream.

| header                    | effect                                                        |
|---------------------------|---------------------------------------------------------------|
| `x-fake-status: N`        | answer with status N and OpenAI's error body for it           |
| `x-fake-retry-after: S`   | Retry-After value sent with a 429 (default `1`)               |
| `x-fake-delay-ms: N`      | wait N ms before answering                                    |
| `x-fake-hang: 1`          | never answer (until the client gives up)                      |
| `x-fake-stream-chunks: N` | split the streamed reply into N content chunks                |
| `x-fake-chunk-delay-ms: N`| wait N ms between stream events                               |
| `x-fake-drop-after: N`    | send N stream events, then abort the connection               |
| `x-fake-stall-after: N`   | send N stream events, then send nothing more (idle upstream)  |
| `x-fake-content: text`    | reply with this text (UTF-8 allowed) instead of `echo: ...`   |
| `x-fake-cached-tokens: N` | report N cached prompt tokens (capped at the prompt)          |
| `x-fake-reasoning-tokens: N` | report N reasoning tokens (added to completion tokens)     |
| `x-fake-cache-write-tokens: N` | Anthropic: report N prompt tokens written to the cache   |
| `x-fake-stream-error: 1`  | Anthropic: send an `overloaded_error` event after message_start|
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.datastructures import Headers


@dataclass(frozen=True, slots=True)
class Faults:
    """The behaviour a request asked for through `x-fake-*` headers."""

    status: int | None = None
    retry_after: str = "1"
    delay_s: float = 0.0
    hang: bool = False
    stream_chunks: int | None = None
    chunk_delay_s: float = 0.0
    drop_after: int | None = None
    stall_after: int | None = None
    content: str | None = None
    cached_tokens: int = 0
    reasoning_tokens: int = 0
    cache_write_tokens: int = 0
    stream_error: bool = False

    @classmethod
    def from_headers(cls, headers: Headers) -> Faults:
        """Read the `x-fake-*` headers; malformed numbers are ignored rather than fatal."""
        status = _int(headers.get("x-fake-status"))
        content = headers.get("x-fake-content")
        return cls(
            status=status if status is not None and 400 <= status <= 599 else None,
            retry_after=headers.get("x-fake-retry-after", "1"),
            delay_s=(_int(headers.get("x-fake-delay-ms")) or 0) / 1000,
            hang=headers.get("x-fake-hang", "").lower() in {"1", "true", "yes"},
            stream_chunks=_int(headers.get("x-fake-stream-chunks")),
            chunk_delay_s=(_int(headers.get("x-fake-chunk-delay-ms")) or 0) / 1000,
            drop_after=_int(headers.get("x-fake-drop-after")),
            stall_after=_int(headers.get("x-fake-stall-after")),
            # Header values arrive as latin-1; the test meant UTF-8 text.
            content=content.encode("latin-1").decode("utf-8", errors="replace")
            if content is not None
            else None,
            cached_tokens=_int(headers.get("x-fake-cached-tokens")) or 0,
            reasoning_tokens=_int(headers.get("x-fake-reasoning-tokens")) or 0,
            cache_write_tokens=_int(headers.get("x-fake-cache-write-tokens")) or 0,
            stream_error=headers.get("x-fake-stream-error", "").lower() in {"1", "true", "yes"},
        )


def _int(raw: str | None) -> int | None:
    if raw is None:
        return None
    try:
        value = int(raw.strip())
    except ValueError:
        return None
    return value if value >= 0 else None
