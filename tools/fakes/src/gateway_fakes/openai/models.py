"""`GET /v1/models` and `GET /v1/models/{model}`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import orjson
from starlette.responses import Response

from gateway_fakes.openai.call import FakeCall, Handler
from gateway_fakes.openai.errors import error_response

DEFAULT_MODELS: Final = (
    "gpt-4o",
    "gpt-4o-mini",
    "gpt-4.1",
    "o3-mini",
    "gpt-3.5-turbo-instruct",
    "text-embedding-3-small",
    "text-embedding-3-large",
    "omni-moderation-latest",
    "dall-e-3",
    "gpt-image-1",
    "tts-1",
    "whisper-1",
    "gpt-4o-transcribe",
)
_CREATED = 1_700_000_000


def _model_object(model: str) -> dict[str, object]:
    return {"id": model, "object": "model", "created": _CREATED, "owned_by": "system"}


def model_handlers(models: Sequence[str]) -> tuple[Handler, Handler]:
    """(list handler, retrieve handler) serving `models`."""
    listing = orjson.dumps({"object": "list", "data": [_model_object(model) for model in models]})

    async def list_models(call: FakeCall) -> Response:
        return Response(listing, media_type="application/json")

    async def retrieve_model(call: FakeCall) -> Response:
        model = str(call.request.path_params["model"])
        if model not in models:
            message = f"The model '{model}' does not exist"
            return error_response(404, message, "invalid_request_error", "model_not_found", "model")
        return Response(orjson.dumps(_model_object(model)), media_type="application/json")

    return list_models, retrieve_model
