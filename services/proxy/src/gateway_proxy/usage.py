"""Usage events: what one finished request consumed, as a `UsageEvent` for accounting.

The forwarder fills a `UsageRecord` while it serves a request (deployment, status, tokens,
time to first token, disconnects) and `build_usage_event` turns it into the proto at the end,
with the model's pricing from the snapshot and the snapshot revision as `pricing_revision`.
Requests refused before reaching a provider (auth, validation) produce no event.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from gateway_proto.v1.pricing_pb2 import ModelPricing
from gateway_proto.v1.usage_pb2 import Attempt, UsageEvent
from gateway_providers import Endpoint, Usage
from google.protobuf.timestamp_pb2 import Timestamp

from gateway_proxy.auth import Principal
from gateway_proxy.runtime import DeploymentRuntime


def endpoint_name(endpoint: Endpoint) -> str:
    """The UsageEvent spelling of an endpoint: `chat_completions` -> `chat.completions`."""
    return endpoint.value.replace("_", ".", 1)


@dataclass(slots=True)
class UsageRecord:
    """Facts collected while serving one request, turned into a UsageEvent when it ends."""

    request_id: str
    endpoint: Endpoint
    principal: Principal
    model: str
    pricing: ModelPricing
    pricing_revision: int
    stream: bool
    started_unix: float
    started: float  # perf_counter at arrival
    deployment: DeploymentRuntime | None = None
    status_code: int = 0
    error_code: str = ""
    usage: Usage | None = None
    estimated: bool = False  # the gateway counted the tokens (the provider reported none)
    images: int = 0
    characters: int = 0
    audio_seconds: int = 0
    time_to_first_token_s: float | None = None
    client_disconnected: bool = False
    gateway_overhead_s: float = 0.0
    attempts: list[Attempt] = field(default_factory=list)

    def add_attempt(
        self, deployment: DeploymentRuntime, status: int, error_code: str, seconds: float
    ) -> None:
        """Record one upstream call (failover of issue 8 makes several)."""
        self.deployment = deployment
        self.attempts.append(
            Attempt(
                deployment_id=deployment.id,
                provider=deployment.provider.type,
                status_code=status,
                error_code=error_code,
                duration_us=_us(seconds),
            )
        )


def build_usage_event(record: UsageRecord, *, instance_id: str, finished: float | None = None) -> UsageEvent:
    """The UsageEvent for a finished request (`finished` is a perf_counter reading, default now).

    Nested messages are filled in place: passing them to the constructor builds each one and
    then copies it (twice the work for the timestamps, usage, pricing and attempts).
    """
    end = time.perf_counter() if finished is None else finished
    duration_us = _us(max(0.0, end - record.started))
    principal = record.principal
    event = UsageEvent(
        request_id=record.request_id,
        tenant_id=principal.tenant_id,
        key_id=principal.key_id,
        user_id=principal.user_id,
        endpoint=endpoint_name(record.endpoint),
        model=record.model,
        status_code=record.status_code,
        error_code=record.error_code,
        stream=record.stream,
        pricing_revision=record.pricing_revision,
        duration_us=duration_us,
        gateway_overhead_us=_us(record.gateway_overhead_s),
        time_to_first_token_us=(
            _us(record.time_to_first_token_s) if record.time_to_first_token_s is not None else 0
        ),
        client_disconnected=record.client_disconnected,
        proxy_instance=instance_id,
    )
    started_ns = round(record.started_unix * 1e9)
    _set_time(event.started_at, started_ns)
    _set_time(event.finished_at, started_ns + duration_us * 1000)
    tokens = event.usage
    tokens.SetInParent()
    usage = record.usage
    if usage is not None:
        tokens.prompt_tokens = usage.prompt_tokens
        tokens.completion_tokens = usage.completion_tokens
        tokens.cached_prompt_tokens = usage.cached_prompt_tokens
        tokens.cache_write_prompt_tokens = usage.cache_write_prompt_tokens
        tokens.reasoning_tokens = usage.reasoning_tokens
    tokens.estimated = record.estimated
    tokens.images = record.images
    tokens.characters = record.characters
    tokens.audio_seconds = record.audio_seconds
    event.pricing.SetInParent()
    event.pricing.CopyFrom(record.pricing)
    event.attempts.extend(record.attempts)
    if record.deployment is not None:
        event.deployment_id = record.deployment.id
        event.provider = record.deployment.provider.type
        event.provider_model = record.deployment.upstream_model
    return event


def _set_time(stamp: Timestamp, unix_ns: int) -> None:
    stamp.seconds, stamp.nanos = divmod(unix_ns, 1_000_000_000)


def _us(seconds: float) -> int:
    return round(seconds * 1_000_000)
