"""Provider adapters: build upstream requests and parse responses, streams and errors (no I/O)."""

from gateway_providers.base import (
    DONE,
    ENDPOINT_CAPABILITY,
    Capability,
    DeploymentTarget,
    Endpoint,
    FilePart,
    ParsedResponse,
    ProviderAdapter,
    ProviderConfig,
    ProviderConfigError,
    ProviderError,
    StreamEvent,
    StreamParser,
    UnsupportedRequestError,
    UpstreamRequest,
    Usage,
)
from gateway_providers.registry import UnknownProviderError, get_adapter, registered_types

__all__ = [
    "DONE",
    "ENDPOINT_CAPABILITY",
    "Capability",
    "DeploymentTarget",
    "Endpoint",
    "FilePart",
    "ParsedResponse",
    "ProviderAdapter",
    "ProviderConfig",
    "ProviderConfigError",
    "ProviderError",
    "StreamEvent",
    "StreamParser",
    "UnknownProviderError",
    "UnsupportedRequestError",
    "UpstreamRequest",
    "Usage",
    "get_adapter",
    "registered_types",
]
