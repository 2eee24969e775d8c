"""The Anthropic Messages API: `POST /v1/messages` and `POST /v1/messages/count_tokens`.

A Messages request is checked and translated into a chat completions body
(`messages_api.request`) and served by the chat completions handler, so it is keyed, guarded,
routed, failed over and billed exactly like one: the key needs the chat completions endpoint,
and its usage event is a `chat.completions` one. `messages_api.shape.MessagesShape`, around the
whole app, turns the answers back into the Messages API's shapes.

count_tokens answers from the gateway's own tokenizer (cl100k), like the providers' own
estimate: it reaches no upstream and writes no usage.
"""

from __future__ import annotations

import orjson
from gateway_providers import Endpoint
from starlette.requests import Request
from starlette.responses import Response

from gateway_proxy.body import ClientRequest, parse_json_object, read_body, validate_chat
from gateway_proxy.catalog import resolve_model
from gateway_proxy.messages_api.request import chat_request
from gateway_proxy.routes.endpoints import endpoint_handler, require_endpoint
from gateway_proxy.state import ProxyState, proxy_state


async def _read_messages(request: Request, state: ProxyState) -> tuple[dict[str, object], ClientRequest]:
    chat = chat_request(parse_json_object(await read_body(request, state.settings.max_body_bytes)))
    return chat, validate_chat(chat)


create_message = endpoint_handler(Endpoint.CHAT_COMPLETIONS, _read_messages)


async def count_tokens(request: Request) -> Response:
    """`{"input_tokens": n}` for a Messages body, counted by the gateway for a model the key may use."""
    state = proxy_state(request)
    principal = await state.authenticator.authenticate(request.headers)
    require_endpoint(principal, Endpoint.CHAT_COMPLETIONS, request.url.path)
    body = parse_json_object(await read_body(request, state.settings.max_body_bytes))
    chat = chat_request(body, needs_max_tokens=False)
    resolve_model(state.config.require(), principal, str(chat["model"]))
    await state.estimator.ready()
    tokens = state.estimator.prompt_tokens(chat)
    tools = chat.get("tools")
    if tools:
        tokens += state.estimator.count(orjson.dumps(tools).decode())
    return Response(orjson.dumps({"input_tokens": tokens}), media_type="application/json")
