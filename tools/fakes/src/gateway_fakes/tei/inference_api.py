"""The Hugging Face Inference API's `feature-extraction` route, served beside the fake TEI.

`POST /hf-inference/models/{model}/pipeline/feature-extraction` (the router path; a dedicated
Inference Endpoint answers the same body at its URL) takes `{"inputs": str | [str],
"normalize"?, "truncate"?}` and answers the vectors: one list for a string input, a list of
lists for a batch. A model id ending in `-token-level` answers unpooled token vectors (one
more nesting level), as a model without a pooling layer does. Admission: `Authorization:
Bearer <key>`, else 401 `{"error": "Invalid credentials in Authorization header"}`. Errors
are `{"error": "..."}`; an `x-fake-status: 503` is a cold model, with `estimated_time`.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Final

import orjson
from starlette.requests import Request
from starlette.responses import Response

from gateway_fakes.dialect import Dialect
from gateway_fakes.openai.call import FakeCall
from gateway_fakes.openai.embeddings import DEFAULT_DIMENSIONS, embedding_vector

ESTIMATED_LOAD_S: Final = 20.0


def hf_error(status: int, message: str, extra: Mapping[str, object] | None = None) -> Response:
    """The Inference API's `{"error": message}` (plus e.g. `estimated_time`)."""
    body = orjson.dumps({"error": message, **(extra or {})})
    return Response(body, status, media_type="application/json")


def _admit(request: Request, api_key: str) -> Response | None:
    presented = request.headers.get("authorization", "")
    if not secrets.compare_digest(presented.encode(), f"Bearer {api_key}".encode()):
        return hf_error(401, "Invalid credentials in Authorization header")
    return None


def _fault_error(status: int, retry_after: str) -> Response:
    if status == 503:
        return hf_error(503, "Model is currently loading", {"estimated_time": ESTIMATED_LOAD_S})
    response = hf_error(status, f"fake upstream fault (HTTP {status})")
    if status == 429:
        response.headers["retry-after"] = retry_after
    return response


INFERENCE_API_DIALECT: Final = Dialect(
    admit=_admit,
    fault_error=_fault_error,
    bad_json=lambda: hf_error(400, "Malformed JSON in request body"),
)


async def feature_extraction(call: FakeCall) -> Response:
    """Embed `inputs` as the pipeline does."""
    inputs = call.body.get("inputs")
    texts = [inputs] if isinstance(inputs, str) else inputs
    if not isinstance(texts, list) or not texts or not all(isinstance(text, str) for text in texts):
        return hf_error(400, "Input should be a valid string or a list of strings")
    model = str(call.request.path_params.get("model", ""))
    if model.endswith("-token-level"):
        vectors: list[object] = [[embedding_vector(word, 4) for word in text.split()] for text in texts]
    else:
        vectors = [embedding_vector(text, DEFAULT_DIMENSIONS) for text in texts]
    return Response(
        orjson.dumps(vectors[0] if isinstance(inputs, str) else vectors), media_type="application/json"
    )
