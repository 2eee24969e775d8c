"""OpenAI embeddings <-> Vertex AI text-embedding `:predict` (text-embedding-005, gemini-embedding-001...).

| OpenAI                        | Vertex `predict`                                              |
|-------------------------------|---------------------------------------------------------------|
| `input` (string or strings)   | `instances: [{content}]` (one per input; token ids refused)   |
| `dimensions`                  | `parameters.outputDimensionality`                             |
| setting `task_type`           | each instance's `task_type` (e.g. `RETRIEVAL_DOCUMENT`)       |
| setting `auto_truncate`       | `parameters.autoTruncate` (`false`: an over-long input is a 400)|

The answer's `predictions[].embeddings.values` become `data[].embedding`; usage is the sum of
the predictions' `statistics.token_count`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from gateway_providers.base import UnsupportedRequestError, Usage
from gateway_providers.embeddings import embeddings_list

TASK_TYPE_SETTING: Final = "task_type"
AUTO_TRUNCATE_SETTING: Final = "auto_truncate"


def predict_request(body: Mapping[str, object], settings: Mapping[str, str]) -> dict[str, object]:
    """The `:predict` body for an OpenAI embeddings request."""
    raw = body.get("input")
    texts = [raw] if isinstance(raw, str) else raw
    if not isinstance(texts, list) or not texts or not all(isinstance(text, str) for text in texts):
        raise UnsupportedRequestError(
            "This provider embeds text: `input` must be a string or an array of strings.", "input"
        )
    task_type = settings.get(TASK_TYPE_SETTING)
    instances = [{"content": text, **({"task_type": task_type} if task_type else {})} for text in texts]
    parameters: dict[str, object] = {}
    dimensions = body.get("dimensions")
    if isinstance(dimensions, int) and not isinstance(dimensions, bool):
        parameters["outputDimensionality"] = dimensions
    if AUTO_TRUNCATE_SETTING in settings:
        parameters["autoTruncate"] = settings[AUTO_TRUNCATE_SETTING].strip().lower() == "true"
    request: dict[str, object] = {"instances": instances}
    if parameters:
        request["parameters"] = parameters
    return request


def embeddings_from_predict(
    response: Mapping[str, object], model_alias: str | None
) -> tuple[dict[str, object], Usage | None] | None:
    """OpenAI's embeddings list from a `:predict` answer, or None if it is not that shape."""
    predictions = response.get("predictions")
    if not isinstance(predictions, list):
        return None
    vectors: list[list[float]] = []
    tokens = 0
    for prediction in predictions:
        embeddings = prediction.get("embeddings") if isinstance(prediction, Mapping) else None
        values = embeddings.get("values") if isinstance(embeddings, Mapping) else None
        if not isinstance(values, list) or not isinstance(embeddings, Mapping):
            return None
        vectors.append(values)
        statistics = embeddings.get("statistics")
        count = statistics.get("token_count") if isinstance(statistics, Mapping) else None
        tokens += int(count) if isinstance(count, int | float) and not isinstance(count, bool) else 0
    usage = Usage(prompt_tokens=tokens)
    return embeddings_list(vectors, model_alias=model_alias, usage=usage), usage
