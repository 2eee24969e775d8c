"""Fake provider upstreams that speak each provider's wire format, for dev and tests."""

from gateway_fakes.openai import DEFAULT_API_KEY, create_openai_fake, request_log
from gateway_fakes.process import FakeProcess, FakeStartError, free_port, run_fake
from gateway_fakes.recorder import Outcome, RecordedRequest, RequestLog

__all__ = [
    "DEFAULT_API_KEY",
    "FakeProcess",
    "FakeStartError",
    "Outcome",
    "RecordedRequest",
    "RequestLog",
    "create_openai_fake",
    "free_port",
    "request_log",
    "run_fake",
]
