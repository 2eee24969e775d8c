"""Idempotency-Key parsing, request fingerprints and the pre-call token estimate."""

from __future__ import annotations

import pytest
from gateway_providers import FilePart
from gateway_proxy.errors import InvalidRequest
from gateway_proxy.idempotency import fingerprint, read_key
from gateway_proxy.tokens import estimate_tokens
from starlette.datastructures import Headers


def test_read_key_accepts_sf_strings_and_bare_tokens() -> None:
    assert read_key(Headers({"Idempotency-Key": '"8e03978e-40d5"'})) == "8e03978e-40d5"
    assert read_key(Headers({"idempotency-key": "abc"})) == "abc"
    assert read_key(Headers({})) is None
    for bad in ('""', "x" * 256):
        with pytest.raises(InvalidRequest):
            read_key(Headers({"idempotency-key": bad}))


def test_fingerprint_ignores_key_order_but_not_values_or_endpoint() -> None:
    a = fingerprint("chat_completions", {"model": "m", "messages": [{"role": "user", "content": "x"}]})
    b = fingerprint("chat_completions", {"messages": [{"content": "x", "role": "user"}], "model": "m"})
    assert a == b
    assert a != fingerprint(
        "chat_completions", {"model": "m", "messages": [{"role": "user", "content": "y"}]}
    )
    assert a != fingerprint("completions", {"model": "m", "messages": [{"role": "user", "content": "x"}]})


def test_fingerprint_hashes_file_parts() -> None:
    one = fingerprint("t", {"file": FilePart("a.wav", "audio/wav", b"1" * 10)})
    two = fingerprint("t", {"file": FilePart("a.wav", "audio/wav", b"2" * 10)})
    assert one != two


def test_token_estimate_is_the_rough_prompt_plus_max_tokens_times_n() -> None:
    body: dict[str, object] = {"messages": [{"role": "user", "content": "hello world"}]}
    prompt = 3 + 3 + 3  # reply primer, one message's framing, 11 bytes at 4 per token rounded up
    assert estimate_tokens(body) == prompt
    assert estimate_tokens({**body, "max_tokens": 100, "n": 2}) == prompt + 200
    assert estimate_tokens({**body, "max_completion_tokens": 50, "max_tokens": 100}) == prompt + 50
    assert estimate_tokens({**body, "max_tokens": True, "n": 0}) == prompt  # neither is a count
