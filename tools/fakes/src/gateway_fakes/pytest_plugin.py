"""Pytest fixtures for the fake upstreams.

Load with `-p gateway_fakes.pytest_plugin`, or import the fixtures into a conftest.

- `fake_openai_session` (session): one fake OpenAI upstream subprocess for the session.
- `fake_openai`: the same process with its request log cleared before the test.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from gateway_fakes.process import FakeProcess, run_fake


@pytest.fixture(scope="session")
def fake_openai_session() -> Iterator[FakeProcess]:
    """A fake OpenAI upstream on a free loopback port, accepting `DEFAULT_API_KEY`."""
    with run_fake("openai") as fake:
        yield fake


@pytest.fixture
def fake_openai(fake_openai_session: FakeProcess) -> FakeProcess:
    """The session's fake OpenAI upstream with an empty request log."""
    fake_openai_session.clear()
    return fake_openai_session
