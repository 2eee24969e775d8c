"""Forwarding one validated request to a provider and answering the client.

`Forwarder.forward` is endpoint-agnostic (issue 3 adds endpoints by calling it with another
`Endpoint`): pick deployments with the route's strategy, build the upstream request with the
deployment's adapter (the body forwarded whole, `model` swapped to the upstream model), send
it with httpx, and answer:

- sync: the upstream body bytes as they came (no re-serialisation) with the upstream status;
- stream: an `SSERelayResponse` over the adapter's incremental parser;
- binary (speech audio): a `BytesRelayResponse` that passes chunks through as they arrive;
- upstream error: the adapter's `parse_error`, rendered as OpenAI's error JSON.

Every finished attempt ends in one usage event, submitted to the background publisher, with
what `metering` reads from the request and response (tokens estimated when none are reported).
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import httpx
from gateway_proto.v1.usage_pb2 import UsageEvent
from gateway_providers import Endpoint, ProviderConfigError, ProviderError
from starlette.responses import Response

from gateway_proxy.auth import Principal
from gateway_proxy.context import RequestContext
from gateway_proxy.errors import GatewayError, ServiceUnavailable, UpstreamFailed
from gateway_proxy.metering import meter_request, meter_response, meter_stream
from gateway_proxy.metrics import ProxyMetrics
from gateway_proxy.passthrough import BytesRelayResponse
from gateway_proxy.relay import SSERelayResponse, StreamOutcome
from gateway_proxy.routing import candidate_deployments
from gateway_proxy.runtime import DeploymentRuntime, ModelRuntime, RuntimeConfig
from gateway_proxy.tokens import TokenEstimator
from gateway_proxy.upstream import build_httpx_request, transport_error
from gateway_proxy.usage import UsageRecord, build_usage_event
from gateway_proxy.usage_publisher import UsagePublisher

log = logging.getLogger(__name__)

# An upstream error body is read for its message only; a larger one is cut off here.
_MAX_ERROR_BODY = 64 * 1024
# Endpoints whose success body is relayed chunk by chunk rather than read whole.
_BINARY_STREAMED = frozenset({Endpoint.AUDIO_SPEECH})
# Told every usage event as it is submitted, with the request's context (the guards' hook).
UsageObserver = Callable[[RequestContext, UsageEvent], None]


@dataclass(frozen=True, slots=True)
class ForwardJob:
    """One request ready to forward: who, which model, the parsed body, and stream options."""

    endpoint: Endpoint
    principal: Principal
    config: RuntimeConfig
    model: ModelRuntime
    body: Mapping[str, object]
    stream: bool
    include_usage: bool  # whether the client itself asked for the usage chunk


class Forwarder:
    """Sends jobs upstream over the shared httpx client and records their usage."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        publisher: UsagePublisher,
        metrics: ProxyMetrics,
        *,
        instance_id: str,
        rng: random.Random | None = None,
        estimator: TokenEstimator | None = None,
        usage_observer: UsageObserver | None = None,
    ) -> None:
        self._client = client
        self._estimator = estimator or TokenEstimator()
        # The guards (issue 4) learn each request's actual usage: TPM reconciliation, idempotency.
        self._usage_observer = usage_observer
        self._publisher = publisher
        self._metrics = metrics
        self._instance_id = instance_id
        self._rng = rng or random.Random()

    async def forward(self, job: ForwardJob, context: RequestContext) -> Response:
        """Serve `job` from its model's best deployment (failover across candidates is issue 8)."""
        candidates = candidate_deployments(job.model.route, self._rng)
        if not candidates:
            raise ServiceUnavailable(
                f"The model `{job.model.name}` has no available deployment.", code="no_deployment"
            )
        deployment = candidates[0]
        record = UsageRecord(
            request_id=context.request_id,
            endpoint=job.endpoint,
            principal=job.principal,
            model=job.model.name,
            pricing=job.model.pricing,
            pricing_revision=job.config.revision,
            stream=job.stream,
            started_unix=context.started_unix,
            started=context.started,
        )
        meter_request(record, job.endpoint, job.body)
        try:
            upstream = deployment.provider.adapter.build_request(
                job.endpoint, {**job.body, "model": deployment.upstream_model}, deployment.target
            )
        except ProviderConfigError as exc:
            raise ServiceUnavailable(
                f"The deployment for `{job.model.name}` is misconfigured: {exc}", code="no_deployment"
            ) from exc
        except ProviderError as exc:
            # A request this provider cannot express (e.g. `n` > 1 on Anthropic): the client's 400,
            # raised before anything is sent, so nothing is billed.
            raise UpstreamFailed.from_provider(exc) from exc
        timeouts = job.model.timeouts
        loop = asyncio.get_running_loop()
        # A sync call must finish within both the sync and the total limit; a stream within the total.
        budget_s = timeouts.total_s if job.stream else min(timeouts.sync_s, timeouts.total_s)
        deadline = loop.time() + budget_s
        request = build_httpx_request(
            self._client,
            upstream,
            connect_s=timeouts.connect_s,
            read_s=timeouts.stream_idle_s if job.stream else timeouts.upstream_s,
            stream=job.stream,
        )
        sent = time.perf_counter()
        try:
            async with asyncio.timeout_at(deadline):
                response = await self._client.send(request, stream=True)
        except (httpx.TransportError, TimeoutError) as exc:
            error = transport_error(exc, deployment.provider.name)
            self._finish_failed(record, deployment, context, sent, error)
            raise error from exc
        # A stream's framing (SSE, or Bedrock's AWS event-stream) is the adapter parser's
        # business, so any non-error answer to a stream request is relayed through it.
        if job.stream and response.status_code < 400:
            return self._relay(job, record, deployment, context, sent, response, deadline)
        if job.endpoint in _BINARY_STREAMED and response.status_code < 400:
            return self._pass_bytes(record, deployment, context, sent, response, deadline)
        return await self._complete(job, record, deployment, context, sent, response, deadline)

    async def _complete(
        self,
        job: ForwardJob,
        record: UsageRecord,
        deployment: DeploymentRuntime,
        context: RequestContext,
        sent: float,
        response: httpx.Response,
        deadline: float,
    ) -> Response:
        adapter = deployment.provider.adapter
        try:
            async with asyncio.timeout_at(deadline):
                limit = None if response.status_code < 400 else _MAX_ERROR_BODY
                body = await _read_body(response, limit)
        except (httpx.TransportError, httpx.StreamError, TimeoutError) as exc:
            error = transport_error(exc, deployment.provider.name)
            self._finish_failed(record, deployment, context, sent, error)
            raise error from exc
        finally:
            await response.aclose()
        if response.status_code >= 400:
            provider_error = adapter.parse_error(response.status_code, response.headers, body)
            error = UpstreamFailed.from_provider(provider_error)
            self._finish_failed(
                record, deployment, context, sent, error, upstream_status=response.status_code
            )
            raise error
        parsed = adapter.parse_response(job.endpoint, response.status_code, response.headers, body)
        elapsed = self._upstream_done(deployment, context, sent)
        record.add_attempt(deployment, response.status_code, "", elapsed)
        record.status_code = response.status_code
        meter_response(record, job.endpoint, job.body, parsed.body, parsed.usage, self._estimator)
        self._submit(record, context)
        media_type = response.headers.get("content-type", "application/json")
        return Response(parsed.body, status_code=response.status_code, media_type=media_type)

    def _relay(
        self,
        job: ForwardJob,
        record: UsageRecord,
        deployment: DeploymentRuntime,
        context: RequestContext,
        sent: float,
        response: httpx.Response,
        deadline: float,
    ) -> SSERelayResponse:
        elapsed = self._upstream_done(deployment, context, sent)
        record.add_attempt(deployment, response.status_code, "", elapsed)
        record.status_code = 200
        parser = deployment.provider.adapter.new_stream_parser(job.endpoint)

        def on_finish(outcome: StreamOutcome) -> None:
            meter_stream(record, job.body, parser.usage, outcome.streamed_text, self._estimator)
            record.client_disconnected = outcome.client_disconnected
            record.error_code = outcome.error_code
            if outcome.first_event_at is not None:
                record.time_to_first_token_s = outcome.first_event_at - context.started
            if outcome.error_code and not outcome.client_disconnected:
                self._metrics.upstream_errors.labels(deployment.provider.type, outcome.error_code).inc()
                log.warning(
                    "stream ended with an error",
                    extra={"deployment_id": deployment.id, "error_code": outcome.error_code},
                )
            self._submit(record, context)

        return SSERelayResponse(
            response, parser, include_usage=job.include_usage, deadline=deadline, on_finish=on_finish
        )

    def _pass_bytes(
        self,
        record: UsageRecord,
        deployment: DeploymentRuntime,
        context: RequestContext,
        sent: float,
        response: httpx.Response,
        deadline: float,
    ) -> BytesRelayResponse:
        elapsed = self._upstream_done(deployment, context, sent)
        record.add_attempt(deployment, response.status_code, "", elapsed)
        record.status_code = response.status_code

        def on_finish(outcome: StreamOutcome) -> None:
            record.client_disconnected = outcome.client_disconnected
            record.error_code = outcome.error_code
            if outcome.error_code and not outcome.client_disconnected:
                self._metrics.upstream_errors.labels(deployment.provider.type, outcome.error_code).inc()
                log.warning("binary relay ended early", extra={"error_code": outcome.error_code})
            self._submit(record, context)

        return BytesRelayResponse(response, deadline=deadline, on_finish=on_finish)

    def _upstream_done(self, deployment: DeploymentRuntime, context: RequestContext, sent: float) -> float:
        elapsed = time.perf_counter() - sent
        context.add_upstream_time(elapsed)
        self._metrics.upstream_duration.labels(deployment.provider.type).observe(elapsed)
        return elapsed

    def _finish_failed(
        self,
        record: UsageRecord,
        deployment: DeploymentRuntime,
        context: RequestContext,
        sent: float,
        error: GatewayError,
        upstream_status: int = 0,
    ) -> None:
        elapsed = self._upstream_done(deployment, context, sent)
        code = error.code or error.type
        record.add_attempt(deployment, upstream_status, code, elapsed)
        record.status_code = error.status
        record.error_code = code
        self._metrics.upstream_errors.labels(deployment.provider.type, code).inc()
        log.warning(
            "upstream call failed",
            extra={
                "deployment_id": deployment.id,
                "provider_id": deployment.provider.id,
                "upstream_status": upstream_status,
                "status": error.status,
                "error_code": code,
            },
        )
        self._submit(record, context)

    def _submit(self, record: UsageRecord, context: RequestContext) -> None:
        now = time.perf_counter()
        record.gateway_overhead_s = max(0.0, (now - context.started) - context.upstream_s)
        if context.overhead_s is not None:
            record.gateway_overhead_s = context.overhead_s
        event = build_usage_event(record, instance_id=self._instance_id, finished=now)
        if self._usage_observer is not None:
            self._usage_observer(context, event)
        self._publisher.submit(event)


async def _read_body(response: httpx.Response, limit: int | None) -> bytes:
    if limit is None:
        return await response.aread()
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size >= limit:
            break
    return b"".join(chunks)[:limit]
