"""Which models a key sees, and their OpenAI `model` objects.

A model is visible when the key and its tenant are entitled to it and it can be served
(priced, or unpriced use allowed by the operator). Anything else is `model_not_found`, so the
list, the retrieve endpoint and the chat endpoint all agree on what exists for a key.
"""

from __future__ import annotations

from gateway_proxy.auth import Principal
from gateway_proxy.errors import PermissionDenied, model_not_found
from gateway_proxy.runtime import ModelRuntime, RuntimeConfig


def resolve_model(config: RuntimeConfig, principal: Principal, name: str) -> ModelRuntime:
    """The model `name` for this key: 404 `model_not_found` when it does not exist for the key,
    403 `model_not_priced` when it exists but has no price and unpriced use is off."""
    model = config.model(name)
    if model is None or not principal.may_use(model):
        raise model_not_found(name)
    if not model.servable:
        raise PermissionDenied(
            f"The model `{name}` has no price configured and cannot be served.", code="model_not_priced"
        )
    return model


def visible_models(config: RuntimeConfig, principal: Principal) -> list[ModelRuntime]:
    """Every model the key may call, sorted by name."""
    return sorted(
        (m for m in config.models_by_name.values() if m.servable and principal.may_use(m)),
        key=lambda m: m.name,
    )


def model_object(model: ModelRuntime) -> dict[str, object]:
    """OpenAI's `model` object for one catalog entry."""
    return {"id": model.name, "object": "model", "created": model.created_unix, "owned_by": model.owned_by}
