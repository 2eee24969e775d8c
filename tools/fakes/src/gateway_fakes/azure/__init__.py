"""A fake Azure OpenAI upstream: OpenAI's bodies behind deployment URLs, `api-key` auth."""

from gateway_fakes.azure.app import DEFAULT_AZURE_KEY, DEFAULT_AZURE_TOKEN, create_azure_fake

__all__ = ["DEFAULT_AZURE_KEY", "DEFAULT_AZURE_TOKEN", "create_azure_fake"]
