"""A fake Anthropic Messages API upstream speaking the public API's wire format."""

from gateway_fakes.anthropic.app import DEFAULT_ANTHROPIC_KEY, create_anthropic_fake

__all__ = ["DEFAULT_ANTHROPIC_KEY", "create_anthropic_fake"]
