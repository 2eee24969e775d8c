"""The fake Text Embeddings Inference (TEI) server as a Starlette app (`create_tei_fake`).

From TEI's OpenAPI reference: `POST /embed` takes `{"inputs": str | [str] | [[token ids]],
"normalize"?, "truncate"?}` and answers a bare JSON list of float vectors (16 dimensions
here: the OpenAI fake's SHA-256 unit vectors, so both fakes embed a text identically),
with `x-compute-tokens` / `x-compute-characters` / `x-compute-type` headers.
`GET /info` describes the model. Tokens are whitespace-separated words; an input over
512 of them is 413 `Validation` unless `truncate` is true. Errors are
`{"error": "...", "error_type": "..."}`. Admission: `Authorization: Bearer <key>` (TEI's
`--api-key`), else 401 with an empty body, as TEI answers. The same server also speaks the
Hugging Face Inference API's feature-extraction route (`inference_api.py`).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Final

import orjson
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway_fakes.dialect import Dialect
from gateway_fakes.openai.app import request_log_endpoint
from gateway_fakes.openai.call import BodyKind, FakeCall, FakeContext, endpoint
from gateway_fakes.openai.embeddings import DEFAULT_DIMENSIONS, embedding_vector
from gateway_fakes.openai.text import count_tokens
from gateway_fakes.recorder import RequestLog
from gateway_fakes.tei.inference_api import INFERENCE_API_DIALECT, feature_extraction

DEFAULT_TEI_KEY: Final = "hf-tei-upstream-test"
MODEL_ID: Final = "BAAI/bge-small-en-v1.5"
MAX_INPUT_TOKENS: Final = 512
FAULT_TYPES: Final[Mapping[int, str]] = {
    400: "Empty",
    413: "Validation",
    422: "Tokenizer",
    424: "Backend",
    429: "Overloaded",
}


def tei_error(
    status: int, message: str, error_type: str, headers: Mapping[str, str] | None = None
) -> Response:
    """TEI's error JSON: `{"error": message, "error_type": type}`."""
    body = orjson.dumps({"error": message, "error_type": error_type})
    return Response(body, status, headers=dict(headers or {}), media_type="application/json")


def _admit(request: Request, api_key: str) -> Response | None:
    presented = request.headers.get("authorization", "")
    if not secrets.compare_digest(presented.encode(), f"Bearer {api_key}".encode()):
        return Response(status_code=401)
    return None


def _fault_error(status: int, retry_after: str) -> Response:
    if status == 401:
        return Response(status_code=401)
    headers = {"retry-after": retry_after} if status == 429 else None
    error_type = FAULT_TYPES.get(status, "Backend" if status >= 500 else "Validation")
    return tei_error(status, f"fake upstream fault (HTTP {status})", error_type, headers)


def _bad_json() -> Response:
    return tei_error(422, "Failed to deserialize the JSON body into the target type", "Validation")


TEI_DIALECT: Final = Dialect(admit=_admit, fault_error=_fault_error, bad_json=_bad_json)


def _texts(inputs: object) -> list[str] | None:
    """Each input as text (token ids joined by spaces, one token each), or None if malformed."""
    if isinstance(inputs, str):
        return [inputs]
    if isinstance(inputs, list) and inputs and all(isinstance(i, int) for i in inputs):
        return [" ".join(str(i) for i in inputs)]
    if not isinstance(inputs, list):
        return None
    texts: list[str] = []
    for item in inputs:
        if isinstance(item, str):
            texts.append(item)
        elif isinstance(item, list) and all(isinstance(i, int) for i in item):
            texts.append(" ".join(str(i) for i in item))
        else:
            return None
    return texts


async def _embed(call: FakeCall) -> Response:
    texts = _texts(call.body.get("inputs"))
    if texts is None:
        return _bad_json()
    if not texts:
        return tei_error(400, "Batch is empty", "Empty")
    truncate = call.body.get("truncate") is True
    longest = max(count_tokens(text) for text in texts)
    if longest > MAX_INPUT_TOKENS and not truncate:
        message = "Input validation error: `inputs` must have less than "
        message += f"{MAX_INPUT_TOKENS} tokens. Given: {longest}"
        return tei_error(413, message, "Validation")
    if truncate:
        texts = [" ".join(text.split()[:MAX_INPUT_TOKENS]) for text in texts]
    vectors = [embedding_vector(text, DEFAULT_DIMENSIONS) for text in texts]
    if call.body.get("normalize") is False:
        vectors = [[value * 2 for value in vector] for vector in vectors]  # visibly not unit vectors
    headers = {
        "x-compute-tokens": str(sum(count_tokens(text) for text in texts)),
        "x-compute-characters": str(sum(len(text) for text in texts)),
        "x-compute-type": "cpu",
    }
    return Response(orjson.dumps(vectors), media_type="application/json", headers=headers)


async def _info(call: FakeCall) -> Response:
    info = {
        "model_id": MODEL_ID,
        "model_dtype": "float32",
        "model_type": {"embedding": {"pooling": "cls"}},
        "max_input_length": MAX_INPUT_TOKENS,
        "max_client_batch_size": 32,
        "version": "1.8.0",
    }
    return Response(orjson.dumps(info), media_type="application/json")


def create_tei_fake(api_key: str = DEFAULT_TEI_KEY) -> Starlette:
    """Build a fake TEI server accepting only `Authorization: Bearer <api_key>`."""
    log = RequestLog()
    context = FakeContext(api_key, log, TEI_DIALECT)
    inference_api = FakeContext(api_key, log, INFERENCE_API_DIALECT)
    routes = [
        Route(
            "/hf-inference/models/{model:path}/pipeline/feature-extraction",
            endpoint(inference_api, feature_extraction, BodyKind.JSON),
            methods=["POST"],
        ),
        Route("/embed", endpoint(context, _embed, BodyKind.JSON), methods=["POST"]),
        Route("/info", endpoint(context, _info, BodyKind.NONE), methods=["GET"]),
        Route("/_fake/requests", request_log_endpoint(context.log), methods=["GET", "DELETE"]),
    ]
    app = Starlette(routes=routes, exception_handlers={HTTPException: _http_error})
    app.state.request_log = context.log
    return app


async def _http_error(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, HTTPException):
        raise exc
    return tei_error(exc.status_code, str(exc.detail), "Validation")
