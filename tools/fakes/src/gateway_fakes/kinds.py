"""Fake upstream kinds: how to build each app and where its API lives under the root URL.

Adding a fake means adding one entry here; the CLI, `run_fake` and the fixtures use it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from starlette.applications import Starlette

from gateway_fakes.anthropic import DEFAULT_ANTHROPIC_KEY, create_anthropic_fake
from gateway_fakes.azure import DEFAULT_AZURE_KEY, create_azure_fake
from gateway_fakes.bedrock import DEFAULT_BEDROCK_SECRET, create_bedrock_fake
from gateway_fakes.openai import DEFAULT_API_KEY, create_openai_fake
from gateway_fakes.tei import DEFAULT_TEI_KEY, create_tei_fake
from gateway_fakes.vertex import DEFAULT_VERTEX_TOKEN, create_vertex_fake


@dataclass(frozen=True, slots=True)
class FakeKind:
    """A fake: its factory (taking the key it accepts), default key, and API base path."""

    factory: Callable[[str], Starlette]
    default_key: str
    base_path: str  # appended to http://host:port to give what a provider config points at


FAKE_KINDS: Final[Mapping[str, FakeKind]] = MappingProxyType(
    {
        "openai": FakeKind(create_openai_fake, DEFAULT_API_KEY, "/v1"),
        "anthropic": FakeKind(create_anthropic_fake, DEFAULT_ANTHROPIC_KEY, "/v1"),
        # An Azure resource endpoint is the bare host; the adapter adds /openai/deployments/...
        "azure": FakeKind(create_azure_fake, DEFAULT_AZURE_KEY, ""),
        # The key is the secret access key; the adapter adds /model/{id}/converse.
        "bedrock": FakeKind(create_bedrock_fake, DEFAULT_BEDROCK_SECRET, ""),
        # A TEI server serves /embed and /info at its root.
        "tei": FakeKind(create_tei_fake, DEFAULT_TEI_KEY, ""),
        # The key is the bearer token; the adapter adds /v1/projects/.../models/{m}:generateContent.
        "vertex": FakeKind(create_vertex_fake, DEFAULT_VERTEX_TOKEN, ""),
    }
)
