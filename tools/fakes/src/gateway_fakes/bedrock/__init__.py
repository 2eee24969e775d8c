"""A fake AWS Bedrock runtime: Converse and ConverseStream, SigV4 verified for real."""

from gateway_fakes.bedrock.app import (
    DEFAULT_BEDROCK_ACCESS_KEY_ID,
    DEFAULT_BEDROCK_REGION,
    DEFAULT_BEDROCK_SECRET,
    DEFAULT_BEDROCK_SESSION_TOKEN,
    create_bedrock_fake,
)

__all__ = [
    "DEFAULT_BEDROCK_ACCESS_KEY_ID",
    "DEFAULT_BEDROCK_REGION",
    "DEFAULT_BEDROCK_SECRET",
    "DEFAULT_BEDROCK_SESSION_TOKEN",
    "create_bedrock_fake",
]
