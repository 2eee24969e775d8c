"""Provider type string -> adapter.

Adapters are stateless, so one instance per type serves every request. Adding a
provider means adding one entry here; callers never branch on the type string.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from gateway_providers.anthropic import AnthropicAdapter
from gateway_providers.azure import AzureOpenAIAdapter
from gateway_providers.base import ProviderAdapter
from gateway_providers.bedrock import BedrockAdapter
from gateway_providers.huggingface import TEIAdapter
from gateway_providers.huggingface_inference import HFInferenceAdapter
from gateway_providers.openai import OpenAIAdapter
from gateway_providers.vertex import VertexGeminiAdapter


class UnknownProviderError(LookupError):
    """No adapter is registered for a provider type."""

    def __init__(self, provider_type: str) -> None:
        super().__init__(f"unknown provider type: {provider_type!r}")
        self.provider_type = provider_type


_ADAPTERS: Final[Mapping[str, ProviderAdapter]] = MappingProxyType(
    {
        "openai": OpenAIAdapter(),
        # Same wire format; a compatible server has no OpenAI organisation/project and
        # (e.g. a local vLLM) may need no key at all.
        "openai_compatible": OpenAIAdapter(
            provider_type="openai_compatible", send_account_headers=False, require_api_key=False
        ),
        "anthropic": AnthropicAdapter(),
        "azure_openai": AzureOpenAIAdapter(),
        "bedrock": BedrockAdapter(),
        "huggingface_tei": TEIAdapter(),
        "huggingface_inference": HFInferenceAdapter(),
        "vertex_gemini": VertexGeminiAdapter(),
    }
)


def get_adapter(provider_type: str) -> ProviderAdapter:
    """Return the adapter registered for `provider_type`; raises `UnknownProviderError`."""
    try:
        return _ADAPTERS[provider_type]
    except KeyError:
        raise UnknownProviderError(provider_type) from None


def registered_types() -> frozenset[str]:
    """Every provider type that has an adapter."""
    return frozenset(_ADAPTERS)
