"""AWS Bedrock Converse API: SigV4 signing, request/response translation, event-stream parsing."""

from gateway_providers.bedrock.adapter import BedrockAdapter
from gateway_providers.bedrock.stream import BedrockStreamParser

__all__ = ["BedrockAdapter", "BedrockStreamParser"]
