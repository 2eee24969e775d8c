"""`POST /model/{modelId}/invoke`: Titan text embeddings, Titan / Nova Canvas and Stability images.

Bodies and responses follow the Bedrock user guide's per-model request/response pages:

- `amazon.titan-embed-text-*`: `{inputText, dimensions?, normalize?, embeddingTypes?}` ->
  `{embedding, inputTextTokenCount, embeddingsByType: {float}}`; `dimensions` is 256, 512 or
  1024 (the default); the vector is the OpenAI fake's unit vector for the text.
- `amazon.titan-image-generator-*`, `amazon.nova-canvas-*`: a `TEXT_IMAGE` task ->
  `{images: [base64 PNG] * numberOfImages, error: null}`.
- `stability.*`: `{prompt, mode?, aspect_ratio?, output_format?}` ->
  `{seeds, finish_reasons: [null], images}`.

A prompt containing `forbidden` is refused as the real models refuse it: Titan with a 400
`ValidationException` naming its content filters, Stability with a 200 whose
`finish_reasons` is `["Filter reason: prompt"]` and no images.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Awaitable, Callable, Mapping
from typing import Final

import orjson
from starlette.responses import Response

from gateway_fakes.bedrock.errors import request_id, validation
from gateway_fakes.openai.call import FakeCall
from gateway_fakes.openai.embeddings import embedding_vector
from gateway_fakes.openai.images import PIXEL_PNG
from gateway_fakes.openai.text import count_tokens

TITAN_DIMENSIONS: Final = frozenset({256, 512, 1024})
STABILITY_RATIOS: Final = frozenset({"16:9", "1:1", "21:9", "2:3", "3:2", "4:5", "5:4", "9:16", "9:21"})
REFUSED_WORD: Final = "forbidden"
_PNG_B64: Final = base64.b64encode(PIXEL_PNG).decode()


def _json(payload: Mapping[str, object], headers: Mapping[str, str] | None = None) -> Response:
    all_headers = {"x-amzn-RequestId": request_id(), **(headers or {})}
    return Response(orjson.dumps(payload), media_type="application/json", headers=all_headers)


async def _titan_embedding(call: FakeCall) -> Response:
    text = call.body.get("inputText")
    if not isinstance(text, str) or not text:
        return validation("Malformed input request: #: required key [inputText] not found, please reformat.")
    dimensions = call.body.get("dimensions", 1024)
    if dimensions not in TITAN_DIMENSIONS:
        return validation(f"Malformed input request: #/dimensions: {dimensions} is not a valid enum value")
    vector = embedding_vector(text, int(str(dimensions)))
    tokens = count_tokens(text)
    return _json(
        {"embedding": vector, "inputTextTokenCount": tokens, "embeddingsByType": {"float": vector}},
        {"X-Amzn-Bedrock-Input-Token-Count": str(tokens)},
    )


async def _titan_image(call: FakeCall) -> Response:
    params = call.body.get("textToImageParams")
    config = call.body.get("imageGenerationConfig") or {}
    text = params.get("text") if isinstance(params, Mapping) else None
    if call.body.get("taskType") != "TEXT_IMAGE" or not isinstance(text, str) or not text:
        return validation("Malformed input request: #: required key [textToImageParams] not found")
    count = config.get("numberOfImages", 1) if isinstance(config, Mapping) else 1
    if not isinstance(count, int) or not 1 <= count <= 5:
        return validation("Malformed input request: #/imageGenerationConfig/numberOfImages: out of range")
    if REFUSED_WORD in text.lower():
        return validation("This request has been blocked by our content filters.")
    return _json({"images": [_PNG_B64] * count, "error": None})


async def _stability_image(call: FakeCall) -> Response:
    prompt = call.body.get("prompt")
    if not isinstance(prompt, str) or not prompt:
        return validation("Malformed input request: #: required key [prompt] not found")
    if call.body.get("aspect_ratio", "1:1") not in STABILITY_RATIOS:
        return validation("Malformed input request: #/aspect_ratio: not a valid enum value")
    if call.body.get("output_format", "png") not in ("png", "jpeg", "webp"):
        return validation("Malformed input request: #/output_format: not a valid enum value")
    if REFUSED_WORD in prompt.lower():
        return _json({"finish_reasons": ["Filter reason: prompt"]})
    return _json({"seeds": [secrets.randbelow(2**32)], "finish_reasons": [None], "images": [_PNG_B64]})


MODEL_HANDLERS: Final[tuple[tuple[str, Callable[[FakeCall], Awaitable[Response]]], ...]] = (
    ("amazon.titan-embed-text", _titan_embedding),
    ("amazon.titan-image-generator", _titan_image),
    ("amazon.nova-canvas", _titan_image),
    ("stability.", _stability_image),
)


async def invoke(call: FakeCall) -> Response:
    """Dispatch an InvokeModel call on the model id's family."""
    model_id = str(call.request.path_params["model_id"]).rsplit("/", 1)[-1]
    for prefix, handler in MODEL_HANDLERS:
        if model_id.startswith(prefix) or f".{prefix}" in model_id:
            return await handler(call)
    return validation("The provided model identifier is invalid.")
