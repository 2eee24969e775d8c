"""Generated bad bodies for every endpoint: never a 5xx, always OpenAI's error, never lost.

Hypothesis starts from a valid body of each JSON endpoint and replaces some of its fields (or a
message's, or a content part's) with any JSON value. It also tries bodies that are not objects
at all, and JSON the strict parser refuses (NaN, an integer past 64 bits, a lone surrogate).
The transcription upload gets generated multipart forms: any parts, as text or as files, with
any bytes, names and content types, and broken framing. For each request:
- the status is below 500: bad input is the client's error, whatever it is;
- every error has OpenAI's shape (message, type, param, code) and an `x-request-id`;
- accounting loses nothing and invents nothing. A request the gateway turned away never reached
  the fake provider and published no usage event; each request the provider saw published
  exactly one.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Mapping
from typing import TYPE_CHECKING, Final

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import assert_openai_error

if TYPE_CHECKING:  # conftest is not importable at runtime under --import-mode=importlib
    from conftest import Harness

# One generated request: the path, its content type (empty: none sent) and its body.
Case = tuple[str, str, bytes]
_JSON: Final = "application/json"
_MESSAGE: Final = {"role": "user", "content": "hi"}
# A valid body per endpoint, and the fields Hypothesis may replace (valid bodies' own and others').
VALID: Final[Mapping[str, dict[str, object]]] = {
    "/v1/chat/completions": {"model": "demo", "messages": [_MESSAGE]},
    "/v1/completions": {"model": "demo", "prompt": "Say hi"},
    "/v1/embeddings": {"model": "demo", "input": "hello"},
    "/v1/moderations": {"model": "omni-moderation-latest", "input": "hello"},
    "/v1/images/generations": {"model": "dall-e-2", "prompt": "a cat"},
    "/v1/audio/speech": {"model": "demo", "input": "hello", "voice": "alloy"},
}
FIELDS: Final = (
    "model", "messages", "prompt", "input", "stream", "stream_options", "n", "max_tokens",
    "max_completion_tokens", "tools", "tool_choice", "response_format", "stop", "seed", "logprobs",
    "top_logprobs", "user", "temperature", "functions", "function_call", "parallel_tool_calls",
    "logit_bias", "encoding_format", "dimensions", "size", "quality", "echo", "suffix", "best_of",
    "voice", "speed", "instructions",
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
def bad_bodies(draw: st.DrawFn) -> Case:
    """A JSON endpoint and a body: a valid one with some fields replaced, or no object at all."""
    path = draw(st.sampled_from(sorted(VALID)))
    shape = draw(st.sampled_from(("fields", "message", "part", "not-an-object", "unparsable")))
    if shape == "unparsable":
        return path, _JSON, draw(st.sampled_from(UNPARSABLE))
    if shape == "not-an-object":
        value = draw(st.one_of(_SCALARS, st.lists(JSON_VALUES, max_size=3)))
        return path, _JSON, json.dumps(value).encode()
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
    return path, _JSON, json.dumps(body).encode()


_BOUNDARY: Final = "fuzzboundary7MA4YWxkTrZu0gW"
FORM_FIELDS: Final = ("file", "model", "language", "prompt", "response_format", "temperature")
VALID_PARTS: Final = (
    b'content-disposition: form-data; name="model"\r\n\r\nwhisper-1',
    b'content-disposition: form-data; name="file"; filename="a.wav"\r\ncontent-type: audio/wav\r\n\r\nRIFF',
)
_TEXT_BYTES = st.one_of(st.text(max_size=16).map(str.encode), st.binary(max_size=16))


@st.composite
def _form_part(draw: st.DrawFn) -> bytes:
    name = draw(
        st.one_of(st.sampled_from(FORM_FIELDS), st.just("timestamp_granularities[]"), st.text(max_size=8))
    )
    disposition = f'form-data; name="{name}"'
    head = ""
    if draw(st.booleans()):  # a file part
        filename = draw(st.one_of(st.just("a.wav"), st.text(max_size=12)))
        disposition += f'; filename="{filename}"'
        head = f"content-type: {draw(st.sampled_from(('audio/wav', '', 'text/plain; charset=bogus')))}\r\n"
    data = draw(_TEXT_BYTES)
    return f"content-disposition: {disposition}\r\n{head}\r\n".encode("utf-8", "surrogatepass") + data


@st.composite
def bad_forms(draw: st.DrawFn) -> Case:
    """The transcription upload with valid parts, odd parts, or broken framing."""
    parts = draw(st.lists(st.sampled_from(VALID_PARTS), max_size=2)) + draw(
        st.lists(_form_part(), max_size=4)
    )
    body = b"".join(f"--{_BOUNDARY}\r\n".encode() + part + b"\r\n" for part in parts)
    body += f"--{_BOUNDARY}--\r\n".encode()
    framing = draw(st.sampled_from(("ok", "truncated", "no-boundary", "other-boundary", "not-multipart")))
    content_type = f"multipart/form-data; boundary={_BOUNDARY}"
    if framing == "truncated":
        body = body[: draw(st.integers(0, max(0, len(body) - 1)))]
    elif framing == "no-boundary":
        content_type = "multipart/form-data"
    elif framing == "other-boundary":
        content_type = "multipart/form-data; boundary=another"
    elif framing == "not-multipart":
        content_type = draw(st.sampled_from(("application/json", "text/plain", "")))
    return "/v1/audio/transcriptions", content_type, body


class Prober:
    """Sends generated requests with one key and checks each answer; counts what was forwarded."""

    def __init__(self, harness: Harness, key: str, http: httpx.Client) -> None:
        self.harness = harness
        self.key = key
        self.http = http
        self.statuses: Counter[int] = Counter()
        self.forwarded = 0

    def send(self, path: str, content_type: str, body: bytes) -> None:
        seen_before = len(self.harness.fake.requests())
        headers = {"authorization": f"Bearer {self.key}"}
        if content_type:
            headers["content-type"] = content_type
        response = self.http.post(path, content=body, headers=headers)
        self.statuses[response.status_code] += 1
        assert response.status_code < 500, (path, body, response.text)
        assert response.headers.get("x-request-id")
        reached = len(self.harness.fake.requests()) - seen_before
        assert reached in (0, 1)
        self.forwarded += reached
        if response.status_code >= 400:
            assert_openai_error(response)
        if reached == 0:
            assert response.status_code >= 400, (path, body, response.text)

    async def assert_one_event_per_forwarded_request(self, events_before: int) -> None:
        # Both sides were exercised: bodies the gateway refused, and bodies it forwarded.
        assert self.statuses[400] > 0, self.statuses
        assert self.forwarded > 0, self.statuses
        settled = await self.harness.settled_usage_count(events_before + self.forwarded)
        assert settled - events_before == self.forwarded, self.statuses


_SETTINGS = settings(
    max_examples=300,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@pytest.mark.parametrize("cases", [bad_bodies(), bad_forms()], ids=["json", "upload"])
async def test_generated_bad_requests_get_openai_errors_and_lose_nothing(
    shared: Harness, cases: st.SearchStrategy[Case]
) -> None:
    key, _ = await shared.create_key()
    events_before = await shared.quiet_usage_count()
    with httpx.Client(base_url=shared.base_url, timeout=10, trust_env=False) as http:
        prober = Prober(shared, key, http)

        @_SETTINGS
        @given(cases)
        def check(case: Case) -> None:
            prober.send(*case)

        # Hypothesis drives a plain function: it runs in a thread, with a blocking client.
        await asyncio.to_thread(check)
    await prober.assert_one_event_per_forwarded_request(events_before)
