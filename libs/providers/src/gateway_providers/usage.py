"""Read token usage out of an OpenAI-shaped `usage` object.

Chat, completions and embeddings report `prompt_tokens`/`completion_tokens` with
`prompt_tokens_details.cached_tokens` and `completion_tokens_details.reasoning_tokens`;
images, transcriptions and the Responses API spell them `input_tokens`/`output_tokens`
with `input_tokens_details`/`output_tokens_details`. Both spellings are accepted.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from gateway_providers.base import Usage

# No request comes near this many tokens of any kind (the largest context windows hold about ten
# million). A count above it, or below zero, is a malformed report, not usage. The bound also keeps
# a count's cost in micro-USD inside a signed 64-bit integer at any price up to $9,000 per million
# tokens.
MAX_PLAUSIBLE_TOKENS: Final = 1_000_000_000


def usage_from_payload(payload: Mapping[str, object]) -> Usage | None:
    """Return the usage in a response or stream chunk's `usage` field, or None if it has none.

    A `usage: null` (OpenAI sends it on every chunk but the last when usage is requested)
    and a usage without token counts (e.g. whisper's `{"type": "duration"}`) both give None.
    Nested objects are checked as `dict` (what JSON parses to), not the slower `Mapping` ABC:
    this runs on every streamed event.
    """
    usage = payload.get("usage")
    if not isinstance(usage, dict):
        return None
    prompt = _first_count(usage, "prompt_tokens", "input_tokens")
    completion = _first_count(usage, "completion_tokens", "output_tokens")
    if prompt is None and completion is None:
        return None
    prompt_details = _first_mapping(usage, "prompt_tokens_details", "input_tokens_details")
    completion_details = _first_mapping(usage, "completion_tokens_details", "output_tokens_details")
    return Usage(
        prompt_tokens=prompt or 0,
        completion_tokens=completion or 0,
        cached_prompt_tokens=_first_count(prompt_details, "cached_tokens") or 0,
        reasoning_tokens=_first_count(completion_details, "reasoning_tokens") or 0,
    )


def _first_count(source: Mapping[str, object], *names: str) -> int | None:
    for name in names:
        value = source.get(name)
        # bool is an int subclass; a provider sending `true` as a count is malformed.
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return value
    return None


def _first_mapping(source: Mapping[str, object], *names: str) -> Mapping[str, object]:
    for name in names:
        value = source.get(name)
        if isinstance(value, dict):
            return value
    return {}


def plausible_usage(usage: Usage | None) -> Usage | None:
    """`usage` when each of its counts is between 0 and MAX_PLAUSIBLE_TOKENS, else None.

    Every adapter reads counts its own way; whatever a provider put in them, a usage that fails
    this check is treated as no usage at all (the proxy then counts the tokens itself).
    """
    if usage is None:
        return None
    counts = (
        usage.prompt_tokens,
        usage.completion_tokens,
        usage.cached_prompt_tokens,
        usage.reasoning_tokens,
        usage.cache_write_prompt_tokens,
    )
    if min(counts) >= 0 and max(counts) <= MAX_PLAUSIBLE_TOKENS:
        return usage
    return None
