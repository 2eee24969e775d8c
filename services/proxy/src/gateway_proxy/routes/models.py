"""GET /v1/models and GET /v1/models/{id}: the models this key may use, in OpenAI's format."""

from __future__ import annotations

import orjson
from gateway_providers import Endpoint
from starlette.requests import Request
from starlette.responses import Response

from gateway_proxy.auth import Principal
from gateway_proxy.catalog import model_object, visible_models
from gateway_proxy.errors import PermissionDenied, model_not_found
from gateway_proxy.state import ProxyState, proxy_state


async def _authorised(request: Request) -> tuple[ProxyState, Principal]:
    state = proxy_state(request)
    principal = await state.authenticator.authenticate(request.headers)
    if not principal.may_call(Endpoint.MODELS):
        raise PermissionDenied("This API key may not call /v1/models.", code="endpoint_not_allowed")
    return state, principal


async def list_models(request: Request) -> Response:
    """`{"object": "list", "data": [model, ...]}` of every model visible to the key."""
    state, principal = await _authorised(request)
    config = state.config.require()
    data = [model_object(m) for m in visible_models(config, principal)]
    return Response(orjson.dumps({"object": "list", "data": data}), media_type="application/json")


async def retrieve_model(request: Request) -> Response:
    """One model object, or 404 `model_not_found` when the key may not see it."""
    state, principal = await _authorised(request)
    config = state.config.require()
    name: str = request.path_params["model_id"]
    model = config.model(name)
    if model is None or not model.servable or not principal.may_use(model):
        raise model_not_found(name)
    return Response(orjson.dumps(model_object(model)), media_type="application/json")
