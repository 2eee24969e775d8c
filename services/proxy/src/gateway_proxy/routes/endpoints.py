"""The OpenAI POST endpoints: authenticate, read and validate the body, resolve the model, forward.

Every endpoint goes through `serve`; they differ only in how the body is read (JSON, or a
multipart form for transcriptions) and which validator checks it (`validate.JSON_VALIDATORS`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from gateway_providers import Endpoint
from starlette.requests import Request
from starlette.responses import Response

from gateway_proxy.auth import Principal
from gateway_proxy.body import ClientRequest, parse_json_object, read_body
from gateway_proxy.catalog import resolve_model
from gateway_proxy.context import request_context
from gateway_proxy.errors import PermissionDenied
from gateway_proxy.forms import parse_transcription_form
from gateway_proxy.forwarder import ForwardJob
from gateway_proxy.state import ProxyState, proxy_state
from gateway_proxy.validate import JSON_VALIDATORS, validate_transcription

Handler = Callable[[Request], Awaitable[Response]]
BodyReader = Callable[[Request, ProxyState], Awaitable[tuple[Mapping[str, object], ClientRequest]]]


def json_endpoint(endpoint: Endpoint) -> Handler:
    """The handler of a JSON endpoint, checked by its validator from `JSON_VALIDATORS`."""
    validator = JSON_VALIDATORS[endpoint]

    async def read(request: Request, state: ProxyState) -> tuple[Mapping[str, object], ClientRequest]:
        body = parse_json_object(await read_body(request, state.settings.max_body_bytes))
        return body, validator(body)

    return endpoint_handler(endpoint, read)


async def _read_transcription(
    request: Request, state: ProxyState
) -> tuple[Mapping[str, object], ClientRequest]:
    raw = await read_body(request, state.settings.max_body_bytes)
    fields = await parse_transcription_form(request.headers, raw, state.settings.max_body_bytes)
    return fields, validate_transcription(fields)


def transcription_endpoint() -> Handler:
    """POST /v1/audio/transcriptions: a multipart upload, forwarded as a multipart upload."""
    return endpoint_handler(Endpoint.AUDIO_TRANSCRIPTIONS, _read_transcription)


def require_endpoint(principal: Principal, endpoint: Endpoint, path: str) -> None:
    """403 `endpoint_not_allowed` unless the key may call `endpoint` (named by its `path`)."""
    if not principal.may_call(endpoint):
        raise PermissionDenied(f"This API key may not call {path}.", code="endpoint_not_allowed")


def endpoint_handler(endpoint: Endpoint, read: BodyReader) -> Handler:
    """The handler serving `endpoint` for bodies `read` gives: keys, guards, routing, forwarding."""

    async def handle(request: Request) -> Response:
        state = proxy_state(request)
        context = request_context(request.scope)
        principal = await state.authenticator.authenticate(request.headers)
        require_endpoint(principal, endpoint, request.url.path)
        body, client = await read(request, state)
        config = state.config.require()
        model = resolve_model(config, principal, client.model)
        context.model_label = model.name
        job = ForwardJob(
            endpoint=endpoint,
            principal=principal,
            config=config,
            model=model,
            body=body,
            stream=client.stream,
            include_usage=client.include_usage,
        )
        # Idempotency-Key, rate limits and budget reservations (guards.py) wrap the forward.
        return await state.guards.run(
            request.headers,
            context,
            principal,
            endpoint.value,
            body,
            lambda: state.forwarder.forward(job, context),
            budgets=config.budgets,
            pricing=model.pricing,
            default_limits=(config.default_key_limits, config.default_tenant_limits),
        )

    handle.__name__ = endpoint.value
    handle.__doc__ = f"Serve {endpoint.value} from the model's deployment."
    return handle
