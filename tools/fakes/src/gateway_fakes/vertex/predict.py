"""`models/{model}:predict` for text-embedding models (`text-embedding-005`, `gemini-embedding-001`...).

From the Vertex AI text-embeddings API reference: `{"instances": [{"content", "task_type"?,
"title"?}], "parameters"?: {"autoTruncate"?, "outputDimensionality"?}}` answers
`{"predictions": [{"embeddings": {"values": [...], "statistics": {"truncated", "token_count"}}}],
"metadata": {"billableCharacterCount"}}`. Vectors are the OpenAI fake's unit vectors, 768
dimensions unless `outputDimensionality` says otherwise; at most 250 instances; an input over
2048 tokens is refused unless `autoTruncate` (the default) is true.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import orjson
from starlette.responses import Response

from gateway_fakes.openai.call import FakeCall
from gateway_fakes.openai.embeddings import embedding_vector
from gateway_fakes.openai.text import count_tokens
from gateway_fakes.vertex.errors import invalid

DEFAULT_DIMENSIONS: Final = 768
MAX_INSTANCES: Final = 250
MAX_TOKENS: Final = 2048
TASK_TYPES: Final = frozenset(
    {
        "RETRIEVAL_QUERY",
        "RETRIEVAL_DOCUMENT",
        "SEMANTIC_SIMILARITY",
        "CLASSIFICATION",
        "CLUSTERING",
        "QUESTION_ANSWERING",
        "FACT_VERIFICATION",
        "CODE_RETRIEVAL_QUERY",
    }
)


async def predict(call: FakeCall) -> Response:
    """Embed each instance's `content`."""
    instances = call.body.get("instances")
    if not isinstance(instances, list) or not instances:
        return invalid("Invalid JSON payload received. Field 'instances' is required.")
    if len(instances) > MAX_INSTANCES:
        return invalid(f"The number of instances ({len(instances)}) exceeds the limit of {MAX_INSTANCES}.")
    parameters = call.body.get("parameters") or {}
    if not isinstance(parameters, Mapping):
        return invalid("Invalid JSON payload received. 'parameters' must be an object.")
    dimensions = parameters.get("outputDimensionality", DEFAULT_DIMENSIONS)
    if not isinstance(dimensions, int) or not 1 <= dimensions <= DEFAULT_DIMENSIONS:
        return invalid(f"outputDimensionality must be between 1 and {DEFAULT_DIMENSIONS}.")
    truncate = parameters.get("autoTruncate", True) is not False
    predictions: list[dict[str, object]] = []
    characters = 0
    for instance in instances:
        content = instance.get("content") if isinstance(instance, Mapping) else None
        if not isinstance(content, str):
            return invalid("Each instance needs a string 'content'.")
        task = instance.get("task_type") if isinstance(instance, Mapping) else None
        if task is not None and task not in TASK_TYPES:
            return invalid(f"Unsupported task_type: {task}.")
        tokens = count_tokens(content)
        if tokens > MAX_TOKENS and not truncate:
            return invalid(f"The input token count ({tokens}) exceeds the maximum of {MAX_TOKENS} tokens.")
        words = content.split()[:MAX_TOKENS] if tokens > MAX_TOKENS else None
        text = " ".join(words) if words is not None else content
        characters += len(text)
        statistics = {"truncated": words is not None, "token_count": min(tokens, MAX_TOKENS)}
        predictions.append(
            {"embeddings": {"values": embedding_vector(text, dimensions), "statistics": statistics}}
        )
    body = {"predictions": predictions, "metadata": {"billableCharacterCount": characters}}
    return Response(orjson.dumps(body), media_type="application/json")
