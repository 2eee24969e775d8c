"""A fake AWS Bedrock runtime (Converse, ConverseStream, InvokeModel) and STS AssumeRole, SigV4
verified for real."""

from gateway_fakes.bedrock.app import (
    DEFAULT_BEDROCK_ACCESS_KEY_ID,
    DEFAULT_BEDROCK_REGION,
    DEFAULT_BEDROCK_SECRET,
    DEFAULT_BEDROCK_SESSION_TOKEN,
    create_bedrock_fake,
)
from gateway_fakes.bedrock.sts import DEFAULT_STS_ACCESS_KEY_ID, DEFAULT_STS_ROLE_ARN, DEFAULT_STS_SECRET

__all__ = [
    "DEFAULT_BEDROCK_ACCESS_KEY_ID",
    "DEFAULT_BEDROCK_REGION",
    "DEFAULT_BEDROCK_SECRET",
    "DEFAULT_BEDROCK_SESSION_TOKEN",
    "DEFAULT_STS_ACCESS_KEY_ID",
    "DEFAULT_STS_ROLE_ARN",
    "DEFAULT_STS_SECRET",
    "create_bedrock_fake",
]
