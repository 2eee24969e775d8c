"""Pytest fixtures for the fake upstreams.

Load with `-p gateway_fakes.pytest_plugin`, or import the fixtures into a conftest.

- `fake_openai_session` (session): one fake OpenAI upstream subprocess for the session.
- `fake_openai`: the same process with its request log cleared before the test.
- `fake_anthropic_session` / `fake_anthropic`, `fake_azure_session` / `fake_azure`: the same
  for the Anthropic and Azure OpenAI fakes; `fake_bedrock_session` / `fake_bedrock` for Bedrock,
  `fake_tei_session` / `fake_tei` for Text Embeddings Inference, `fake_vertex_session` /
  `fake_vertex` for Vertex AI Gemini.
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


@pytest.fixture(scope="session")
def fake_bedrock_session() -> Iterator[FakeProcess]:
    """A fake Bedrock runtime on a free loopback port; its key is `DEFAULT_BEDROCK_SECRET`."""
    with run_fake("bedrock") as fake:
        yield fake


@pytest.fixture
def fake_bedrock(fake_bedrock_session: FakeProcess) -> FakeProcess:
    """The session's fake Bedrock runtime with an empty request log."""
    fake_bedrock_session.clear()
    return fake_bedrock_session


@pytest.fixture(scope="session")
def fake_tei_session() -> Iterator[FakeProcess]:
    """A fake Text Embeddings Inference server on a free loopback port, accepting `DEFAULT_TEI_KEY`."""
    with run_fake("tei") as fake:
        yield fake


@pytest.fixture
def fake_tei(fake_tei_session: FakeProcess) -> FakeProcess:
    """The session's fake TEI server with an empty request log."""
    fake_tei_session.clear()
    return fake_tei_session


@pytest.fixture(scope="session")
def fake_vertex_session() -> Iterator[FakeProcess]:
    """A fake Vertex AI Gemini endpoint on a free loopback port, accepting `DEFAULT_VERTEX_TOKEN`."""
    with run_fake("vertex") as fake:
        yield fake


@pytest.fixture
def fake_vertex(fake_vertex_session: FakeProcess) -> FakeProcess:
    """The session's fake Vertex endpoint with an empty request log."""
    fake_vertex_session.clear()
    return fake_vertex_session
