"""POST /v1/chat/completions: authenticate, validate, resolve the model, forward."""

from __future__ import annotations

from gateway_providers import Endpoint
from starlette.requests import Request
from starlette.responses import Response

from gateway_proxy.body import parse_json_object, read_body, validate_chat
from gateway_proxy.catalog import resolve_model
from gateway_proxy.context import request_context
from gateway_proxy.errors import PermissionDenied
from gateway_proxy.forwarder import ForwardJob
from gateway_proxy.state import proxy_state


async def chat_completions(request: Request) -> Response:
    """Serve a chat completion, synchronous or streamed, from the model's deployment."""
    state = proxy_state(request)
    context = request_context(request.scope)
    principal = await state.authenticator.authenticate(request.headers)
    if not principal.may_call(Endpoint.CHAT_COMPLETIONS):
        raise PermissionDenied("This API key may not call /v1/chat/completions.", code="endpoint_not_allowed")
    body = parse_json_object(await read_body(request, state.settings.max_body_bytes))
    chat = validate_chat(body)
    config = state.config.require()
    model = resolve_model(config, principal, chat.model)
    context.model_label = model.name
    job = ForwardJob(
        endpoint=Endpoint.CHAT_COMPLETIONS,
        principal=principal,
        config=config,
        model=model,
        body=body,
        stream=chat.stream,
        include_usage=chat.include_usage,
    )
    return await state.forwarder.forward(job, context)
