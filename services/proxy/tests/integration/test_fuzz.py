"""Generated bad bodies for every JSON endpoint: never a 5xx, always OpenAI's error, never lost.

Hypothesis starts from a valid body of each endpoint and replaces some of its fields (or a
message's, or a content part's) with any JSON value. It also tries bodies that are not objects
at all, and JSON the strict parser refuses (NaN, an integer past 64 bits, a lone surrogate).
For each request:
- the status is below 500: bad input is the client's error, whatever it is;
- every error has OpenAI's shape (message, type, param, code) and an `x-request-id`;
- accounting loses nothing and invents nothing. A request the gateway turned away never reached
  the fake provider and published no usage event; each request the provider saw published
  exactly one.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Mapping
from typing import TYPE_CHECKING, Final

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

if TYPE_CHECKING:  # conftest is not importable at runtime under --import-mode=importlib
    from conftest import Harness

_MESSAGE: Final = {"role": "user", "content": "hi"}
# A valid body per endpoint, and the fields Hypothesis may replace (valid bodies' own and others').
VALID: Final[Mapping[str, dict[str, object]]] = {
    "/v1/chat/completions": {"model": "demo", "messages": [_MESSAGE]},
    "/v1/completions": {"model": "demo", "prompt": "Say hi"},
    "/v1/embeddings": {"model": "demo", "input": "hello"},
    "/v1/moderations": {"model": "omni-moderation-latest", "input": "hello"},
    "/v1/images/generations": {"model": "dall-e-2", "prompt": "a cat"},
}
FIELDS: Final = (
    "model", "messages", "prompt", "input", "stream", "stream_options", "n", "max_tokens",
    "max_completion_tokens", "tools", "tool_choice", "response_format", "stop", "seed", "logprobs",
    "top_logprobs", "user", "temperature", "functions", "function_call", "parallel_tool_calls",
    "logit_bias", "encoding_format", "dimensions", "size", "quality", "echo", "suffix", "best_of",
)  # fmt: skip
MESSAGE_FIELDS: Final = ("role", "content", "name", "tool_calls", "tool_call_id", "function_call")
PART_FIELDS: Final = ("type", "text", "image_url", "input_audio", "file")
# JSON the gateway must refuse to parse: Python's json writes these, strict parsers reject them.
UNPARSABLE: Final = (
    b'{"model": "demo", "messages": [{"role": "user", "content": "hi"}], "temperature": NaN}',
    b'{"model": "demo", "messages": [], "n": 1' + b"0" * 30 + b"}",
    b'{"model": "demo", "messages": [{"role": "user", "content": "\\ud800"}]}',
)

_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
)
JSON_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


@st.composite
def bad_bodies(draw: st.DrawFn) -> tuple[str, bytes]:
    """A path and a body: a valid one with some fields replaced, or no object at all."""
    path = draw(st.sampled_from(sorted(VALID)))
    shape = draw(st.sampled_from(("fields", "message", "part", "not-an-object", "unparsable")))
    if shape == "unparsable":
        return path, draw(st.sampled_from(UNPARSABLE))
    if shape == "not-an-object":
        value = draw(st.one_of(_SCALARS, st.lists(JSON_VALUES, max_size=3)))
        return path, json.dumps(value).encode()
    body = dict(VALID[path])
    for name in draw(st.lists(st.sampled_from(FIELDS), min_size=1, max_size=3, unique=True)):
        body[name] = draw(JSON_VALUES)
    if shape == "message":
        message: dict[str, object] = dict(_MESSAGE)
        message[draw(st.sampled_from(MESSAGE_FIELDS))] = draw(JSON_VALUES)
        body["messages"] = [message]
    elif shape == "part":
        part = draw(st.dictionaries(st.sampled_from(PART_FIELDS), JSON_VALUES, max_size=3))
        body["messages"] = [{"role": "user", "content": [part]}]
    return path, json.dumps(body).encode()


async def test_generated_bad_bodies_get_openai_errors_and_lose_nothing(shared: Harness) -> None:
    key, _ = await shared.create_key()
    shared.fake.clear()
    events_before = await shared.usage_count()
    statuses: Counter[int] = Counter()
    forwarded = 0

    @settings(
        max_examples=300,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    @given(bad_bodies())
    def check(case: tuple[str, bytes]) -> None:
        nonlocal forwarded
        path, body = case
        seen_before = len(shared.fake.requests())
        response = http.post(
            path,
            content=body,
            headers={"authorization": f"Bearer {key}", "content-type": "application/json"},
        )
        statuses[response.status_code] += 1
        assert response.status_code < 500, (path, body, response.text)
        assert response.headers.get("x-request-id")
        reached = len(shared.fake.requests()) - seen_before
        assert reached in (0, 1)
        forwarded += reached
        if response.status_code >= 400:
            error = response.json()["error"]
            assert isinstance(error["message"], str)
            assert error["message"]
            assert isinstance(error["type"], str)
            assert error["type"]
            assert "param" in error
            assert "code" in error
        if reached == 0:
            assert response.status_code >= 400, (path, body, response.text)

    # Hypothesis drives a plain function: it runs in a thread, with a blocking client.
    with httpx.Client(base_url=shared.base_url, timeout=10, trust_env=False) as http:
        await asyncio.to_thread(check)
    # Both sides were exercised: bodies the gateway refused, and bodies it forwarded.
    assert statuses[400] > 0, statuses
    assert forwarded > 0, statuses
    deadline = time.monotonic() + 10
    while await shared.usage_count() - events_before < forwarded and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.3)  # an extra event, if any, would land by now
    assert await shared.usage_count() - events_before == forwarded, statuses
