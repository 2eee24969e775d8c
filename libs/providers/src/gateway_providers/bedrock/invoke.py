"""Bedrock InvokeModel bodies for embeddings and images, and their OpenAI-shaped responses.

InvokeModel (`POST /model/{modelId}/invoke`) takes each model family's native JSON, so
the family is chosen from the model id (a registry of id prefixes; an inference-profile
prefix such as `us.` or an ARN's last segment works too):

| model id prefix                 | endpoint   | request body                                          |
|---------------------------------|------------|-------------------------------------------------------|
| `amazon.titan-embed-text`       | embeddings | `{inputText, dimensions?}` (one input per call)       |
| `amazon.titan-image-generator`, | images     | `{taskType: TEXT_IMAGE, textToImageParams: {text},    |
| `amazon.nova-canvas`            |            | imageGenerationConfig: {numberOfImages, width, ...}}` |
| `stability.`                    | images     | `{prompt, mode: text-to-image, aspect_ratio,          |
|                                 |            | output_format: png}`                                  |

Responses: Titan embeddings `{embedding, inputTextTokenCount}` become OpenAI's embeddings
list (usage = the token count); Titan/Nova `{images, error}` and Stability `{seeds,
finish_reasons, images}` become `{created, data: [{b64_json}]}`. A Stability
`finish_reasons` entry that is not null (`Filter reason: prompt`) means the image was
filtered: `parse_images` raises a 400 `content_policy` `ProviderError`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final

from gateway_providers.base import Endpoint, ErrorKind, ProviderError, UnsupportedRequestError, Usage
from gateway_providers.embeddings import embeddings_list

Body = Mapping[str, object]

# Stability's `aspect_ratio` enum; an OpenAI `size` maps to the nearest one.
STABILITY_RATIOS: Final = ("16:9", "1:1", "21:9", "2:3", "3:2", "4:5", "5:4", "9:16", "9:21")


@dataclass(frozen=True, slots=True)
class InvokeFamily:
    """A model family served through InvokeModel: which endpoint, and how to build its body."""

    prefixes: tuple[str, ...]
    endpoint: Endpoint
    build: Callable[[Body], dict[str, object]]

    def serves(self, endpoint: Endpoint, model_id: str) -> bool:
        """Whether this family serves `endpoint` for `model_id` (plain id, profile id or ARN)."""
        tail = model_id.rsplit("/", 1)[-1]
        return endpoint is self.endpoint and any(
            tail.startswith(prefix) or f".{prefix}" in tail for prefix in self.prefixes
        )


def titan_embedding_body(body: Body) -> dict[str, object]:
    """`{inputText, dimensions?}` from an OpenAI embeddings request (Titan embeds one text per call)."""
    raw = body.get("input")
    text = raw[0] if isinstance(raw, list) and len(raw) == 1 else raw
    if not isinstance(text, str) or not text:
        raise UnsupportedRequestError(
            "This model embeds one text per request; `input` must be a single non-empty string.", "input"
        )
    request: dict[str, object] = {"inputText": text}
    dimensions = body.get("dimensions")
    if isinstance(dimensions, int) and not isinstance(dimensions, bool):
        request["dimensions"] = dimensions
    return request


def titan_image_body(body: Body) -> dict[str, object]:
    """Titan Image Generator / Nova Canvas `TEXT_IMAGE` task from an OpenAI images request."""
    prompt = _prompt(body)
    config: dict[str, object] = {"numberOfImages": _count(body)}
    size = _size(body)
    if size is not None:
        config["width"], config["height"] = size
    if body.get("quality") == "hd":
        config["quality"] = "premium"
    return {"taskType": "TEXT_IMAGE", "textToImageParams": {"text": prompt}, "imageGenerationConfig": config}


def stability_image_body(body: Body) -> dict[str, object]:
    """Stability (SD3, Stable Image Core/Ultra) text-to-image body: one image per request."""
    prompt = _prompt(body)
    if _count(body) != 1:
        raise UnsupportedRequestError("This model returns one image per request; `n` must be 1.", "n")
    size = _size(body)
    ratio = "1:1" if size is None else _nearest_ratio(*size)
    return {"prompt": prompt, "mode": "text-to-image", "aspect_ratio": ratio, "output_format": "png"}


FAMILIES: Final[tuple[InvokeFamily, ...]] = (
    InvokeFamily(("amazon.titan-embed-text",), Endpoint.EMBEDDINGS, titan_embedding_body),
    InvokeFamily(
        ("amazon.titan-image-generator", "amazon.nova-canvas"), Endpoint.IMAGES_GENERATIONS, titan_image_body
    ),
    InvokeFamily(("stability.",), Endpoint.IMAGES_GENERATIONS, stability_image_body),
)


def invoke_family(endpoint: Endpoint, model_id: str) -> InvokeFamily | None:
    """The family that serves `endpoint` for `model_id`, or None."""
    return next((family for family in FAMILIES if family.serves(endpoint, model_id)), None)


def parse_embedding(response: Body, model_alias: str | None) -> tuple[dict[str, object], Usage | None] | None:
    """Titan's `{embedding, inputTextTokenCount}` as OpenAI's list, or None if it is not that shape."""
    vector = response.get("embedding")
    if not isinstance(vector, list) or not all(isinstance(v, int | float) for v in vector):
        return None
    tokens = response.get("inputTextTokenCount")
    usage = Usage(prompt_tokens=tokens) if isinstance(tokens, int) and tokens >= 0 else None
    return embeddings_list([vector], model_alias=model_alias, usage=usage), usage


def parse_images(response: Body) -> dict[str, object] | None:
    """Titan/Nova or Stability images as OpenAI's `{created, data: [{b64_json}]}`; None if not images.

    Raises a 400 `content_policy` `ProviderError` when Stability reports a filtered image or
    Titan reports an error.
    """
    images = response.get("images")
    reasons = response.get("finish_reasons")
    filtered = [r for r in reasons if r is not None] if isinstance(reasons, list) else []
    error = response.get("error")
    if filtered or isinstance(error, str):
        message = str(filtered[0] if filtered else error)
        raise ProviderError(
            400,
            f"The provider refused to generate the image: {message}",
            "invalid_request_error",
            code="content_policy_violation",
            kind=ErrorKind.CONTENT_POLICY,
        )
    if not isinstance(images, list) or not all(isinstance(image, str) for image in images):
        return None
    return {"created": int(time.time()), "data": [{"b64_json": image} for image in images]}


def _prompt(body: Body) -> str:
    if body.get("response_format") not in (None, "b64_json"):
        raise UnsupportedRequestError(
            "This provider returns images inline; `response_format` must be `b64_json`.", "response_format"
        )
    prompt = body.get("prompt")
    if not isinstance(prompt, str) or not prompt:
        raise UnsupportedRequestError("`prompt` must be a non-empty string.", "prompt")
    return prompt


def _count(body: Body) -> int:
    n = body.get("n")
    return n if isinstance(n, int) and not isinstance(n, bool) and n > 0 else 1


def _size(body: Body) -> tuple[int, int] | None:
    size = body.get("size")
    if size is None or size == "auto":
        return None
    width, _, height = str(size).partition("x")
    if not (width.isdigit() and height.isdigit()):
        raise UnsupportedRequestError("`size` must be `<width>x<height>`, e.g. `1024x1024`.", "size")
    return int(width), int(height)


def _nearest_ratio(width: int, height: int) -> str:
    wanted = width / height

    def distance(ratio: str) -> float:
        w, h = ratio.split(":")
        return abs(int(w) / int(h) - wanted)

    return min(STABILITY_RATIOS, key=distance)
