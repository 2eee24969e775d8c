"""`POST /v1/images/generations`: a 1x1 PNG, as `b64_json` or a URL served by the fake."""

from __future__ import annotations

import base64
import struct
import time
import zlib

import orjson
from starlette.requests import Request
from starlette.responses import Response

from gateway_fakes.openai.call import FakeCall
from gateway_fakes.openai.errors import invalid_request
from gateway_fakes.openai.shapes import int_field
from gateway_fakes.openai.text import count_tokens

# gpt-image models report token usage; a 1024x1024 "low" image costs 272 output tokens.
_IMAGE_OUTPUT_TOKENS = 272


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


PIXEL_PNG = (
    b"\x89PNG\r\n\x1a\n"
    + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
    + _png_chunk(b"IDAT", zlib.compress(b"\x00\x7f\x7f\x7f"))
    + _png_chunk(b"IEND", b"")
)


async def images_generations(call: FakeCall) -> Response:
    """Generate `n` images; gpt-image models always return base64 and report usage."""
    prompt = call.body.get("prompt")
    if not isinstance(prompt, str) or not prompt:
        return invalid_request(
            "Missing required parameter: 'prompt'.", "prompt", "missing_required_parameter"
        )
    model = call.model or "dall-e-2"
    count = int_field(call.body, "n") or 1
    token_model = model.startswith("gpt-image")
    as_base64 = token_model or call.body.get("response_format") == "b64_json"
    item: dict[str, object]
    if as_base64:
        item = {"b64_json": base64.b64encode(PIXEL_PNG).decode()}
    else:
        item = {"url": str(call.request.url_for("fake_image"))}
    if model == "dall-e-3":
        item["revised_prompt"] = prompt
    body: dict[str, object] = {"created": int(time.time()), "data": [item] * count}
    if token_model:
        prompt_tokens = count_tokens(prompt)
        body["usage"] = {
            "input_tokens": prompt_tokens,
            "output_tokens": _IMAGE_OUTPUT_TOKENS * count,
            "total_tokens": prompt_tokens + _IMAGE_OUTPUT_TOKENS * count,
            "input_tokens_details": {"text_tokens": prompt_tokens, "image_tokens": 0},
        }
    return Response(orjson.dumps(body), media_type="application/json")


async def fake_image(request: Request) -> Response:
    """Serve the image behind generated URLs (no auth, like a signed blob URL)."""
    return Response(PIXEL_PNG, media_type="image/png")
