"""A fake OpenAI upstream speaking the public API's wire format."""

from gateway_fakes.openai.app import DEFAULT_API_KEY, create_openai_fake, request_log

__all__ = ["DEFAULT_API_KEY", "create_openai_fake", "request_log"]
