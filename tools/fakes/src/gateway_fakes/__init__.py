"""Fake provider upstreams that speak each provider's wire format, for dev and tests."""

from gateway_fakes.anthropic import DEFAULT_ANTHROPIC_KEY, create_anthropic_fake
from gateway_fakes.azure import DEFAULT_AZURE_KEY, DEFAULT_AZURE_TOKEN, create_azure_fake
from gateway_fakes.bedrock import (
    DEFAULT_BEDROCK_ACCESS_KEY_ID,
    DEFAULT_BEDROCK_REGION,
    DEFAULT_BEDROCK_SECRET,
    DEFAULT_BEDROCK_SESSION_TOKEN,
    DEFAULT_STS_ACCESS_KEY_ID,
    DEFAULT_STS_ROLE_ARN,
    DEFAULT_STS_SECRET,
    create_bedrock_fake,
)
from gateway_fakes.kinds import FAKE_KINDS, FakeKind
from gateway_fakes.openai import DEFAULT_API_KEY, create_openai_fake, request_log
from gateway_fakes.process import FakeProcess, FakeStartError, free_port, run_fake
from gateway_fakes.recorder import Outcome, RecordedRequest, RequestLog
from gateway_fakes.tei import DEFAULT_TEI_KEY, create_tei_fake
from gateway_fakes.vertex import DEFAULT_VERTEX_TOKEN, create_vertex_fake

__all__ = [
    "DEFAULT_ANTHROPIC_KEY",
    "DEFAULT_API_KEY",
    "DEFAULT_AZURE_KEY",
    "DEFAULT_AZURE_TOKEN",
    "DEFAULT_BEDROCK_ACCESS_KEY_ID",
    "DEFAULT_BEDROCK_REGION",
    "DEFAULT_BEDROCK_SECRET",
    "DEFAULT_BEDROCK_SESSION_TOKEN",
    "DEFAULT_STS_ACCESS_KEY_ID",
    "DEFAULT_STS_ROLE_ARN",
    "DEFAULT_STS_SECRET",
    "DEFAULT_TEI_KEY",
    "DEFAULT_VERTEX_TOKEN",
    "FAKE_KINDS",
    "FakeKind",
    "FakeProcess",
    "FakeStartError",
    "Outcome",
    "RecordedRequest",
    "RequestLog",
    "create_anthropic_fake",
    "create_azure_fake",
    "create_bedrock_fake",
    "create_openai_fake",
    "create_tei_fake",
    "create_vertex_fake",
    "free_port",
    "request_log",
    "run_fake",
]
