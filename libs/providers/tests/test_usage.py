from __future__ import annotations

import pytest
from gateway_providers.base import Usage
from gateway_providers.usage import MAX_PLAUSIBLE_TOKENS, plausible_usage, usage_from_payload


def test_chat_usage_with_details() -> None:
    payload: dict[str, object] = {
        "usage": {
            "prompt_tokens": 120,
            "completion_tokens": 30,
            "total_tokens": 150,
            "prompt_tokens_details": {"cached_tokens": 100, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 12},
        }
    }
    assert usage_from_payload(payload) == Usage(120, 30, 100, 12)


def test_input_output_spelling() -> None:
    payload: dict[str, object] = {
        "usage": {"input_tokens": 7, "output_tokens": 3, "input_tokens_details": {"cached_tokens": 2}}
    }
    assert usage_from_payload(payload) == Usage(7, 3, 2, 0)


def test_embeddings_usage_has_no_completion() -> None:
    assert usage_from_payload({"usage": {"prompt_tokens": 8, "total_tokens": 8}}) == Usage(8, 0)


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"usage": None},
        {"usage": {"type": "duration", "seconds": 3}},
        {"usage": {"prompt_tokens": True}},
        {"usage": {"prompt_tokens": -1}},
        {"usage": "12"},
    ],
)
def test_no_usable_usage(payload: dict[str, object]) -> None:
    assert usage_from_payload(payload) is None


def test_total_tokens() -> None:
    assert Usage(3, 4, 1, 2).total_tokens == 7


@pytest.mark.parametrize(
    "usage",
    [
        Usage(prompt_tokens=-1, completion_tokens=3),
        Usage(prompt_tokens=2**63, completion_tokens=3),  # past int64: the usage event's field
        Usage(prompt_tokens=5, completion_tokens=MAX_PLAUSIBLE_TOKENS + 1),
        Usage(prompt_tokens=5, completion_tokens=3, cached_prompt_tokens=-2),
        Usage(prompt_tokens=5, completion_tokens=3, reasoning_tokens=10**12),
        Usage(prompt_tokens=5, completion_tokens=3, cache_write_prompt_tokens=-7),
    ],
)
def test_counts_no_request_can_have_are_no_usage(usage: Usage) -> None:
    assert plausible_usage(usage) is None


@pytest.mark.parametrize(
    "usage",
    [Usage(), Usage(120, 30, 100, 12, 7), Usage(MAX_PLAUSIBLE_TOKENS, MAX_PLAUSIBLE_TOKENS)],
)
def test_real_counts_are_kept(usage: Usage) -> None:
    assert plausible_usage(usage) is usage


def test_no_usage_stays_none() -> None:
    assert plausible_usage(None) is None
