"""`POST /v1/embeddings`: deterministic unit vectors, as floats or base64 float32."""

from __future__ import annotations

import base64
import hashlib
import math
import struct

import orjson
from starlette.responses import Response

from gateway_fakes.openai.call import FakeCall
from gateway_fakes.openai.completions import prompt_texts
from gateway_fakes.openai.errors import invalid_request
from gateway_fakes.openai.shapes import int_field
from gateway_fakes.openai.text import count_tokens

DEFAULT_DIMENSIONS = 16
_MAX_DIMENSIONS = 4096


def embedding_vector(text: str, dimensions: int) -> list[float]:
    """A unit vector derived from SHA-256 of `text`, rounded to float32 like the real API."""
    values: list[float] = []
    counter = 0
    while len(values) < dimensions:
        digest = hashlib.sha256(f"{counter}:{text}".encode()).digest()
        values += [(word / 0xFFFFFFFF) * 2 - 1 for word in struct.unpack("<8I", digest)]
        counter += 1
    values = values[:dimensions]
    norm = math.sqrt(sum(v * v for v in values)) or 1.0
    packed = struct.pack(f"<{dimensions}f", *(v / norm for v in values))
    return list(struct.unpack(f"<{dimensions}f", packed))


async def embeddings(call: FakeCall) -> Response:
    """Embed each input; `encoding_format` is `float` (default) or `base64`."""
    if not call.model:
        return invalid_request("you must provide a model parameter")
    texts = prompt_texts(call.body.get("input"))
    if texts is None:
        return invalid_request("'input' must be a string or a non-empty array.", param="input")
    encoding = call.body.get("encoding_format", "float")
    if encoding not in ("float", "base64"):
        return invalid_request(
            f"'{encoding}' is not one of ['float', 'base64'] - 'encoding_format'", param="encoding_format"
        )
    dimensions = int_field(call.body, "dimensions") or DEFAULT_DIMENSIONS
    if not 1 <= dimensions <= _MAX_DIMENSIONS:
        return invalid_request("'dimensions' is out of range.", param="dimensions")
    data = []
    for index, text in enumerate(texts):
        vector = embedding_vector(text, dimensions)
        encoded: object = vector
        if encoding == "base64":
            encoded = base64.b64encode(struct.pack(f"<{dimensions}f", *vector)).decode()
        data.append({"object": "embedding", "index": index, "embedding": encoded})
    tokens = sum(count_tokens(text) for text in texts)
    body = {
        "object": "list",
        "data": data,
        "model": call.model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }
    return Response(orjson.dumps(body), media_type="application/json")
