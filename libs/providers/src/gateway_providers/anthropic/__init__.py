"""Anthropic Messages API: request, response, stream and error translation."""

from gateway_providers.anthropic.adapter import AnthropicAdapter
from gateway_providers.anthropic.stream import AnthropicStreamParser

__all__ = ["AnthropicAdapter", "AnthropicStreamParser"]
