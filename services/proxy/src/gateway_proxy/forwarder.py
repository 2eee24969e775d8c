"""Forwarding one validated request to a provider, failing over until one answers well.

`Forwarder.forward` is endpoint-agnostic: the `Router` orders the model's deployments (strategy,
health, breakers), and each is tried in turn — built with its adapter (the body forwarded
whole, `model` swapped to the upstream model) and sent with httpx — until one answers:

- sync: the upstream body, read whole, then sent as it came (no re-serialisation);
- stream: `start_stream` reads up to the first event that commits to an answer, then an
  `SSERelayResponse` relays it and the rest;
- binary (speech audio): a `BytesRelayResponse` passes chunks through as they arrive.

A failure before the first byte reached the client (connect error, timeout, 429, 5xx, an
error event or a cut before the stream's first event) is hidden: `failover.classify_*` says
whether to try the next deployment, the route's fallback models (context window, content
policy), or to answer the client now. A deployment is re-tried only after a backoff that
honours its Retry-After, within the request's deadline and `ROUTING_MAX_ATTEMPTS`. Failures
after the first byte are never retried; a stream ends with an SSE error event.

Every attempt is in the request's one usage event (`attempts`), and feeds the deployment's
circuit breaker and latency average.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

import httpx
from gateway_proto.v1.usage_pb2 import UsageEvent
from gateway_providers import Endpoint, ProviderConfigError, ProviderError, UpstreamRequest
from gateway_providers.credentials import CredentialResolver, TokenResponse
from gateway_providers.embeddings import apply_encoding_format
from starlette.responses import Response

from gateway_proxy.auth import Principal
from gateway_proxy.context import RequestContext
from gateway_proxy.errors import GatewayError, ServiceUnavailable, UpstreamFailed, UpstreamTimeout
from gateway_proxy.failover import (
    AttemptFailure,
    Verdict,
    classify_provider_error,
    retry_delay,
    transport_failure,
)
from gateway_proxy.metering import meter_request, meter_response, meter_stream
from gateway_proxy.metrics import ProxyMetrics
from gateway_proxy.passthrough import BytesRelayResponse
from gateway_proxy.relay import SSERelayResponse, StreamOutcome, StreamStart, StreamStartFailed, start_stream
from gateway_proxy.router import Router
from gateway_proxy.runtime import DeploymentRuntime, ModelRuntime, RuntimeConfig
from gateway_proxy.tokens import TokenEstimator, estimate_tokens
from gateway_proxy.upstream import SendOptions, Upstream, UpstreamLabels, transport_error
from gateway_proxy.upstream_answer import UpstreamAnswer
from gateway_proxy.usage import UsageRecord, build_usage_event
from gateway_proxy.usage_publisher import UsagePublisher

log = logging.getLogger(__name__)

# An upstream error body is read for its message only; a larger one is cut off here.
_MAX_ERROR_BODY = 64 * 1024
# STS and OAuth token requests (provider credentials).
_TOKEN_REQUEST = SendOptions(connect_s=10.0, read_s=30.0)
# Endpoints whose success body is relayed chunk by chunk rather than read whole.
_BINARY_STREAMED = frozenset({Endpoint.AUDIO_SPEECH})
# Stream-start failures that are timeouts (504) rather than broken upstreams (502).
_START_TIMEOUTS = frozenset({"stream_idle_timeout", "stream_total_timeout"})
# Told every usage event as it is submitted, with the request's context (the guards' hook).
UsageObserver = Callable[[RequestContext, UsageEvent], None]
# Whether a principal may be served a model (fallback aliases obey the key's model list too).
ModelCheck = Callable[[Principal, ModelRuntime], bool]


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


@dataclass(slots=True)
class _Call:
    """One request being forwarded: the job, its usage record, context and deadline, and the
    attempt bookkeeping across deployments and fallback models."""

    job: ForwardJob
    record: UsageRecord
    context: RequestContext
    deadline: float  # event-loop time
    remaining: int
    tries: dict[str, int] = field(default_factory=dict)  # deployment id -> attempts made
    retry_after: dict[str, float | None] = field(default_factory=dict)  # last hint per deployment
    last: AttemptFailure | None = None
    tokens: int | None = None  # the request's token estimate, computed once if a cap needs it


class Forwarder:
    """Sends jobs upstream over the shared connection pool and records their usage."""

    def __init__(
        self,
        upstream: Upstream,
        publisher: UsagePublisher,
        metrics: ProxyMetrics,
        router: Router,
        *,
        instance_id: str,
        estimator: TokenEstimator | None = None,
        usage_observer: UsageObserver | None = None,
    ) -> None:
        self._upstream = upstream
        self._estimator = estimator or TokenEstimator()
        # The guards (issue 4) learn each request's actual usage: TPM reconciliation, idempotency.
        self._usage_observer = usage_observer
        self._publisher = publisher
        self._metrics = metrics
        self._router = router
        self._instance_id = instance_id
        # Short-lived provider credentials (STS AssumeRole, Google service-account tokens), cached.
        self._credentials = CredentialResolver(
            self._send_token_request, transport_errors=(httpx.TransportError,)
        )

    async def _send_token_request(self, request: UpstreamRequest) -> TokenResponse:
        """Send an STS / OAuth token request for the credential resolver."""
        response = await self._upstream.send(request, _TOKEN_REQUEST)
        try:
            body = await response.aread()
        finally:
            await response.aclose()
        return TokenResponse(response.status_code, response.headers, body)

    async def forward(self, job: ForwardJob, context: RequestContext) -> Response:
        """Serve `job` from the first deployment that answers; raise the last failure otherwise."""
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
        timeouts = job.model.timeouts
        # A sync call must finish within both the sync and the total limit; a stream within the total.
        budget_s = timeouts.total_s if job.stream else min(timeouts.sync_s, timeouts.total_s)
        deadline = asyncio.get_running_loop().time() + budget_s
        call = _Call(job, record, context, deadline, remaining=self._router.retry.max_attempts)
        for model in self._models(job):
            response = await self._serve_model(call, model)
            if response is not None:
                return response
            last = call.last
            if last is None or last.verdict is not Verdict.FALLBACK_MODEL or call.remaining <= 0:
                break
            log.info(
                "falling back to another model", extra={"from_model": model.name, "code": last.error.code}
            )
        error = call.last.error if call.last is not None else _no_deployment(job.model)
        self._finish_failed(record, context, error)
        raise error

    def _models(self, job: ForwardJob) -> Iterator[ModelRuntime]:
        """The requested model, then its route's fallback models that exist and the key may use."""
        yield job.model
        for name in job.model.route.fallback_models:
            model = job.config.model(name)
            if model is not None and model.servable and job.principal.may_use(model):
                yield model

    async def _serve_model(self, call: _Call, model: ModelRuntime) -> Response | None:
        """Try `model`'s deployments; None when none answered well (`call.last` says why).

        First round: each candidate in plan order, skipping those the router refuses (breaker
        open, cap full); then the refused ones, as a last resort. Second round: the deployments
        whose failure a retry may cure, after their backoff.
        """
        candidates = self._router.plan(model.route)
        refused: list[DeploymentRuntime] = []
        for deployment in candidates:
            if not await self._router.admit(deployment, self._tokens(call, deployment)):
                refused.append(deployment)
                continue
            outcome = await self._try(call, model, deployment)
            if not isinstance(outcome, _Next):
                return outcome
        for deployment in refused:  # avoided ones are the last resort before giving up
            self._router.force(deployment)
            outcome = await self._try(call, model, deployment)
            if not isinstance(outcome, _Next):
                return outcome
        for deployment in [d for d in candidates if d.id in call.retry_after]:
            if not await self._wait_to_retry(call, deployment):
                continue
            if not await self._router.admit(deployment, self._tokens(call, deployment)):
                continue
            outcome = await self._try(call, model, deployment)
            if not isinstance(outcome, _Next):
                return outcome
        return None

    async def _try(
        self,
        call: _Call,
        model: ModelRuntime,
        deployment: DeploymentRuntime,
    ) -> Response | _Next | None:
        """One attempt within the limits: its response, `_NEXT` to go on, or None to stop this model."""
        if call.remaining <= 0 or _past(call.deadline):
            self._router.breakers.release(deployment.id)
            return None
        response = await self._attempt(call, model, deployment)
        if response is not None:
            return response
        if call.last is not None and call.last.verdict is Verdict.NEXT_DEPLOYMENT:
            return _NEXT
        return None

    async def _wait_to_retry(self, call: _Call, deployment: DeploymentRuntime) -> bool:
        """Back off before a second try of `deployment`; False when it must not be re-tried."""
        tries = call.tries.get(deployment.id, 0)
        if tries == 0:
            return True
        if deployment.id not in call.retry_after:
            return False  # its failure was not one that a retry can cure
        policy = self._router.retry
        delay = retry_delay(
            tries,
            call.retry_after[deployment.id],
            base_s=policy.backoff_s,
            max_wait_s=policy.max_wait_s,
            rng=self._router.rng,
        )
        if delay is None or asyncio.get_running_loop().time() + delay >= call.deadline:
            return False
        await asyncio.sleep(delay)
        return True

    def _tokens(self, call: _Call, deployment: DeploymentRuntime) -> int:
        if deployment.tpm_limit <= 0:
            return 0
        if call.tokens is None:
            call.tokens = estimate_tokens(call.job.body)
        return call.tokens

    async def _attempt(
        self,
        call: _Call,
        model: ModelRuntime,
        deployment: DeploymentRuntime,
    ) -> Response | None:
        """One upstream call; the response for the client, or None after noting the failure."""
        call.remaining -= 1
        call.tries[deployment.id] = call.tries.get(deployment.id, 0) + 1
        # The usage event names, and is priced by, the model that serves (a fallback alias too).
        call.record.model = model.name
        call.record.pricing = model.pricing
        try:
            target = await self._credentials.resolve(deployment.target)
        except (ProviderError, httpx.TransportError, TimeoutError) as exc:
            # The provider's token service refused or is unreachable: this deployment cannot be
            # called now, another one may.
            message = f"The credentials of provider `{deployment.provider.name}` could not be obtained."
            failed = UpstreamFailed(message, code="upstream_authentication_failed")
            self._note_failure(call, deployment, transport_failure(failed), 0, 0.0)
            call.retry_after.pop(deployment.id, None)
            log.warning("credential exchange failed: %s", exc, extra={"deployment_id": deployment.id})
            return None
        try:
            upstream = deployment.provider.adapter.build_request(
                call.job.endpoint, {**call.job.body, "model": deployment.upstream_model}, target
            )
        except ProviderConfigError as exc:
            self._router.breakers.release(deployment.id)
            misconfigured = ServiceUnavailable(
                f"The deployment for `{model.name}` is misconfigured: {exc}", code="no_deployment"
            )
            self._note_failure(call, deployment, transport_failure(misconfigured), 0, 0.0)
            call.retry_after.pop(deployment.id, None)  # a retry cannot cure a misconfiguration
            return None
        except ProviderError as exc:
            # A request this provider cannot express (e.g. `n` > 1 on Anthropic): the client's 400,
            # raised before anything is sent, so nothing is billed.
            self._router.breakers.release(deployment.id)
            raise UpstreamFailed.from_provider(exc) from exc
        timeouts = model.timeouts
        options = SendOptions(
            connect_s=timeouts.connect_s,
            read_s=timeouts.stream_idle_s if call.job.stream else timeouts.upstream_s,
            stream=call.job.stream,
            buffered=not call.job.stream and call.job.endpoint not in _BINARY_STREAMED,
            labels=UpstreamLabels(deployment.provider.type, deployment.upstream_model),
        )
        stats = self._router.stats
        stats.begin(deployment.id)
        sent = time.perf_counter()
        try:
            async with asyncio.timeout_at(call.deadline):
                response = await self._upstream.send(upstream, options)
        except (httpx.TransportError, TimeoutError) as exc:
            stats.end(deployment.id)
            error = transport_error(exc, deployment.provider.name)
            self._note_failure(
                call, deployment, transport_failure(error), 0, self._elapsed(call.context, sent)
            )
            return None
        except BaseException:
            stats.end(deployment.id)
            self._router.breakers.release(deployment.id)
            raise
        try:
            if response.status_code >= 400:
                await self._failed_response(call, deployment, sent, response)
                stats.end(deployment.id)
                return None
            # A stream's framing (SSE, or Bedrock's AWS event-stream) is the adapter parser's
            # business, so any non-error answer to a stream request is relayed through it.
            if call.job.stream:
                return await self._relay(call, model, deployment, sent, response)
            if call.job.endpoint in _BINARY_STREAMED:
                return self._pass_bytes(call, deployment, sent, response)
            return await self._complete(call, deployment, sent, response)
        except BaseException:
            stats.end(deployment.id)
            self._router.breakers.release(deployment.id)
            await response.aclose()
            raise

    async def _failed_response(
        self,
        call: _Call,
        deployment: DeploymentRuntime,
        sent: float,
        response: UpstreamAnswer,
    ) -> None:
        """An upstream error status: read its message, translate it, note the failure."""
        try:
            async with asyncio.timeout_at(call.deadline):
                body = await _read_body(response, _MAX_ERROR_BODY)
        except (httpx.TransportError, httpx.StreamError, TimeoutError):
            body = b""
        finally:
            await response.aclose()
        provider_error = deployment.provider.adapter.parse_error(response.status_code, response.headers, body)
        failure = classify_provider_error(provider_error, UpstreamFailed.from_provider(provider_error))
        self._note_failure(call, deployment, failure, response.status_code, self._elapsed(call.context, sent))

    async def _complete(
        self,
        call: _Call,
        deployment: DeploymentRuntime,
        sent: float,
        response: UpstreamAnswer,
    ) -> Response | None:
        adapter = deployment.provider.adapter
        try:
            if response.is_stream_consumed:  # buffered by the upstream call (SendOptions.buffered)
                body = response.content
            else:
                async with asyncio.timeout_at(call.deadline):
                    body = await response.aread()
        except (httpx.TransportError, httpx.StreamError, TimeoutError) as exc:
            self._router.stats.end(deployment.id)
            error = transport_error(exc, deployment.provider.name)
            self._note_failure(
                call, deployment, transport_failure(error), 0, self._elapsed(call.context, sent)
            )
            return None
        finally:
            await response.aclose()
        self._router.stats.end(deployment.id)
        try:
            parsed = adapter.parse_response(call.job.endpoint, response.status_code, response.headers, body)
        except ProviderError as exc:  # a 200 that is a refusal (e.g. a filtered image)
            failure = classify_provider_error(exc, UpstreamFailed.from_provider(exc))
            self._note_failure(
                call, deployment, failure, response.status_code, self._elapsed(call.context, sent)
            )
            return None
        parsed = apply_encoding_format(call.job.endpoint, call.job.body, parsed)
        elapsed = self._elapsed(call.context, sent)
        self._succeeded(deployment, elapsed)
        call.record.add_attempt(deployment, response.status_code, "", elapsed)
        call.record.status_code = response.status_code
        await meter_response(
            call.record, call.job.endpoint, call.job.body, parsed.body, parsed.usage, self._estimator
        )
        self._submit(call.record, call.context)
        media_type = response.headers.get("content-type", "application/json")
        return Response(parsed.body, status_code=response.status_code, media_type=media_type)

    async def _relay(
        self,
        call: _Call,
        model: ModelRuntime,
        deployment: DeploymentRuntime,
        sent: float,
        response: UpstreamAnswer,
    ) -> SSERelayResponse | None:
        parser = deployment.provider.adapter.new_stream_parser(call.job.endpoint)
        try:
            start: StreamStart = await start_stream(response, parser, call.deadline)
        except StreamStartFailed as exc:
            await response.aclose()
            self._router.stats.end(deployment.id)
            failure = self._stream_start_failure(deployment, exc)
            self._note_failure(
                call, deployment, failure, response.status_code, self._elapsed(call.context, sent)
            )
            return None
        elapsed = self._elapsed(call.context, sent)
        self._succeeded(deployment, start.first_event_at - sent)
        call.record.add_attempt(deployment, response.status_code, "", elapsed)
        call.record.status_code = 200

        async def on_finish(outcome: StreamOutcome) -> None:
            self._router.stats.end(deployment.id)
            await meter_stream(
                call.record, call.job.body, parser.usage, outcome.streamed_text, self._estimator
            )
            call.record.client_disconnected = outcome.client_disconnected
            call.record.error_code = outcome.error_code
            if outcome.first_event_at is not None:
                call.record.time_to_first_token_s = outcome.first_event_at - call.context.started
            if outcome.error_code and not outcome.client_disconnected:
                # Cut after the first byte: too late to hide, but the deployment is to blame.
                self._router.breakers.record_failure(deployment.id)
                self._metrics.upstream_errors.labels(deployment.provider.type, outcome.error_code).inc()
                log.warning(
                    "stream ended with an error",
                    extra={"deployment_id": deployment.id, "error_code": outcome.error_code},
                )
            self._submit(call.record, call.context)

        return SSERelayResponse(
            response,
            parser,
            start,
            include_usage=call.job.include_usage,
            deadline=call.deadline,
            on_finish=on_finish,
        )

    @staticmethod
    def _stream_start_failure(deployment: DeploymentRuntime, exc: StreamStartFailed) -> AttemptFailure:
        if exc.error is not None:
            return classify_provider_error(exc.error, UpstreamFailed.from_provider(exc.error))
        message = f"The upstream provider `{deployment.provider.name}` failed before its first event: "
        error_type = UpstreamTimeout if exc.code in _START_TIMEOUTS else UpstreamFailed
        return transport_failure(error_type(message + exc.message, code=exc.code))

    def _pass_bytes(
        self,
        call: _Call,
        deployment: DeploymentRuntime,
        sent: float,
        response: UpstreamAnswer,
    ) -> BytesRelayResponse:
        elapsed = self._elapsed(call.context, sent)
        self._succeeded(deployment, elapsed)
        call.record.add_attempt(deployment, response.status_code, "", elapsed)
        call.record.status_code = response.status_code

        def on_finish(outcome: StreamOutcome) -> None:
            self._router.stats.end(deployment.id)
            call.record.client_disconnected = outcome.client_disconnected
            call.record.error_code = outcome.error_code
            if outcome.error_code and not outcome.client_disconnected:
                self._router.breakers.record_failure(deployment.id)
                self._metrics.upstream_errors.labels(deployment.provider.type, outcome.error_code).inc()
                log.warning("binary relay ended early", extra={"error_code": outcome.error_code})
            self._submit(call.record, call.context)

        return BytesRelayResponse(response, deadline=call.deadline, on_finish=on_finish)

    def _elapsed(self, context: RequestContext, sent: float) -> float:
        elapsed = time.perf_counter() - sent
        context.add_upstream_time(elapsed)
        return elapsed

    def _succeeded(self, deployment: DeploymentRuntime, latency_s: float) -> None:
        self._router.breakers.record_success(deployment.id)
        self._router.stats.observe_latency(deployment.id, latency_s)
        self._metrics.upstream_duration.labels(deployment.provider.type).observe(latency_s)

    def _note_failure(
        self,
        call: _Call,
        deployment: DeploymentRuntime,
        failure: AttemptFailure,
        upstream_status: int,
        elapsed: float,
    ) -> None:
        """Record a failed attempt in the usage event, the breaker, the metrics and the log."""
        error = failure.error
        code = error.code or error.type
        call.record.add_attempt(deployment, upstream_status, code, elapsed)
        call.last = failure
        if failure.retry_same:
            call.retry_after[deployment.id] = failure.retry_after_s
        else:
            call.retry_after.pop(deployment.id, None)
        if failure.blames_deployment:
            self._router.breakers.record_failure(deployment.id, failure.retry_after_s)
        else:
            self._router.breakers.release(deployment.id)
        self._metrics.upstream_errors.labels(deployment.provider.type, code).inc()
        self._metrics.upstream_duration.labels(deployment.provider.type).observe(elapsed)
        self._metrics.failovers.labels(failure.verdict.value).inc()
        log.warning(
            "upstream attempt failed",
            extra={
                "deployment_id": deployment.id,
                "provider_id": deployment.provider.id,
                "upstream_status": upstream_status,
                "status": error.status,
                "error_code": code,
                "verdict": failure.verdict.value,
            },
        )

    def _finish_failed(self, record: UsageRecord, context: RequestContext, error: GatewayError) -> None:
        """No attempt answered: the request's usage event records every attempt and the error."""
        record.status_code = error.status
        record.error_code = error.code or error.type
        if record.attempts:
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


class _Next:
    """The sentinel type of `_NEXT`: the attempt failed, go on with the next deployment."""


_NEXT = _Next()


def _no_deployment(model: ModelRuntime) -> ServiceUnavailable:
    return ServiceUnavailable(f"The model `{model.name}` has no available deployment.", code="no_deployment")


def _past(deadline: float) -> bool:
    return asyncio.get_running_loop().time() >= deadline


async def _read_body(response: UpstreamAnswer, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size >= limit:
            break
    return b"".join(chunks)[:limit]
