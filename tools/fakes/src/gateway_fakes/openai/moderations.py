"""`POST /v1/moderations`: flags inputs containing a few trigger words, deterministically."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import orjson
from starlette.responses import Response

from gateway_fakes.openai.call import FakeCall
from gateway_fakes.openai.errors import invalid_request
from gateway_fakes.openai.shapes import new_id

CATEGORIES: Final = (
    "harassment",
    "harassment/threatening",
    "hate",
    "hate/threatening",
    "illicit",
    "illicit/violent",
    "self-harm",
    "self-harm/instructions",
    "self-harm/intent",
    "sexual",
    "sexual/minors",
    "violence",
    "violence/graphic",
)

# A word in the input flags its category; e.g. "kill" -> violence.
TRIGGERS: Final[Mapping[str, str]] = {"kill": "violence", "hate": "hate", "steal": "illicit"}


def _inputs(raw: object) -> list[tuple[str, list[str]]] | None:
    """(text, input types) per result: one per string, or one for a multimodal parts list."""
    if isinstance(raw, str):
        return [(raw, ["text"])]
    if isinstance(raw, list) and raw and all(isinstance(item, str) for item in raw):
        return [(str(item), ["text"]) for item in raw]
    if isinstance(raw, list) and raw and all(isinstance(item, dict) for item in raw):
        texts = [str(item.get("text", "")) for item in raw if item.get("type") == "text"]
        kinds = sorted({"image" if item.get("type") == "image_url" else "text" for item in raw})
        return [(" ".join(texts), kinds)]
    return None


def _result(text: str, kinds: list[str]) -> dict[str, object]:
    words = set(text.lower().split())
    hits = {category for word, category in TRIGGERS.items() if word in words}
    return {
        "flagged": bool(hits),
        "categories": {category: category in hits for category in CATEGORIES},
        "category_scores": {category: 0.97 if category in hits else 0.0001 for category in CATEGORIES},
        "category_applied_input_types": {category: kinds for category in CATEGORIES},
    }


async def moderations(call: FakeCall) -> Response:
    """Classify each input; the model defaults to `omni-moderation-latest`."""
    inputs = _inputs(call.body.get("input"))
    if inputs is None:
        return invalid_request(
            "'input' must be a string, an array of strings, or an array of parts.", "input"
        )
    body = {
        "id": new_id("modr-"),
        "model": call.model or "omni-moderation-latest",
        "results": [_result(text, kinds) for text, kinds in inputs],
    }
    return Response(orjson.dumps(body), media_type="application/json")
