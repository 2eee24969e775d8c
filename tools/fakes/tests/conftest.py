from __future__ import annotations

from collections.abc import Iterator

import openai
import pytest
from gateway_fakes import DEFAULT_API_KEY, FakeProcess
from gateway_fakes.pytest_plugin import (
    fake_anthropic,
    fake_anthropic_session,
    fake_azure,
    fake_azure_session,
    fake_bedrock,
    fake_bedrock_session,
    fake_openai,
    fake_openai_session,
    fake_tei,
    fake_tei_session,
    fake_vertex,
    fake_vertex_session,
)

__all__ = [
    "client",
    "fake_anthropic",
    "fake_anthropic_session",
    "fake_azure",
    "fake_azure_session",
    "fake_bedrock",
    "fake_bedrock_session",
    "fake_openai",
    "fake_openai_session",
    "fake_tei",
    "fake_tei_session",
    "fake_vertex",
    "fake_vertex_session",
]


@pytest.fixture
def client(fake_openai: FakeProcess) -> Iterator[openai.OpenAI]:
    """The official SDK pointed at the fake, without SDK retries so faults surface once."""
    with openai.OpenAI(base_url=fake_openai.base_url, api_key=DEFAULT_API_KEY, max_retries=0) as sdk:
        yield sdk
