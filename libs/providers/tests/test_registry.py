from __future__ import annotations

import pytest
from gateway_providers import Capability, ProviderAdapter, UnknownProviderError, get_adapter, registered_types


def test_registered_types() -> None:
    assert {
        "openai",
        "openai_compatible",
        "anthropic",
        "azure_openai",
        "bedrock",
        "huggingface_tei",
    } <= registered_types()


@pytest.mark.parametrize("provider_type", sorted(registered_types()))
def test_adapters_satisfy_the_protocol(provider_type: str) -> None:
    adapter = get_adapter(provider_type)
    assert isinstance(adapter, ProviderAdapter)
    assert adapter.provider_type == provider_type
    # Every adapter serves something; embeddings-only ones (TEI) have no chat.
    assert adapter.capabilities
    assert all(isinstance(capability, Capability) for capability in adapter.capabilities)


def test_unknown_type_raises_typed_error() -> None:
    with pytest.raises(UnknownProviderError) as info:
        get_adapter("nope")
    assert info.value.provider_type == "nope"
    assert isinstance(info.value, LookupError)
