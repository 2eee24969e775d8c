"""Small pieces of OpenAI's response objects shared by several endpoints."""

from __future__ import annotations

import secrets
from collections.abc import Mapping

from gateway_fakes.openai.faults import Faults
from gateway_fakes.openai.text import split_evenly, split_words

SYSTEM_FINGERPRINT = "fp_fake0001"


def new_id(prefix: str) -> str:
    """An id shaped like OpenAI's (`chatcmpl-...`, `cmpl-...`, `call_...`)."""
    return f"{prefix}{secrets.token_hex(12)}"


def usage_object(prompt: int, completion: int, cached: int = 0, reasoning: int = 0) -> dict[str, object]:
    """A chat/completions `usage` object with the token detail sub-objects."""
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": cached, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": reasoning,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def wants_stream_usage(body: Mapping[str, object]) -> bool:
    """Whether `stream_options.include_usage` is true."""
    options = body.get("stream_options")
    return isinstance(options, Mapping) and options.get("include_usage") is True


def stream_pieces(text: str, faults: Faults, default_parts: int | None = None) -> list[str]:
    """Split streamed text: `x-fake-stream-chunks` pieces, else `default_parts`, else by word."""
    parts = faults.stream_chunks or default_parts
    return split_evenly(text, parts) if parts else split_words(text)


def int_field(body: Mapping[str, object], *names: str) -> int | None:
    """The first of `names` holding a non-negative int (bools excluded)."""
    for name in names:
        value = body.get(name)
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return value
    return None
