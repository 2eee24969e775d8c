"""Pytest fixtures for the fake upstreams.

Load with `-p gateway_fakes.pytest_plugin`, or import the fixtures into a conftest.

- `fake_openai_session` (session): one fake OpenAI upstream subprocess for the session.
- `fake_openai`: the same process with its request log cleared before the test.
- `fake_anthropic_session` / `fake_anthropic`, `fake_azure_session` / `fake_azure`: the same
  for the Anthropic and Azure OpenAI fakes.
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


@pytest.fixture(scope="session")
def fake_anthropic_session() -> Iterator[FakeProcess]:
    """A fake Anthropic upstream on a free loopback port, accepting `DEFAULT_ANTHROPIC_KEY`."""
    with run_fake("anthropic") as fake:
        yield fake


@pytest.fixture
def fake_anthropic(fake_anthropic_session: FakeProcess) -> FakeProcess:
    """The session's fake Anthropic upstream with an empty request log."""
    fake_anthropic_session.clear()
    return fake_anthropic_session


@pytest.fixture(scope="session")
def fake_azure_session() -> Iterator[FakeProcess]:
    """A fake Azure OpenAI resource on a free loopback port, accepting `DEFAULT_AZURE_KEY`."""
    with run_fake("azure") as fake:
        yield fake


@pytest.fixture
def fake_azure(fake_azure_session: FakeProcess) -> FakeProcess:
    """The session's fake Azure OpenAI resource with an empty request log."""
    fake_azure_session.clear()
    return fake_azure_session
