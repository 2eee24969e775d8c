"""`POST /v1/completions` (legacy text completions), whole or streamed."""

from __future__ import annotations

import time

import orjson
from starlette.responses import Response

from gateway_fakes.openai.call import FakeCall, sse_response
from gateway_fakes.openai.errors import invalid_request
from gateway_fakes.openai.shapes import (
    SYSTEM_FINGERPRINT,
    int_field,
    new_id,
    stream_pieces,
    wants_stream_usage,
)
from gateway_fakes.openai.text import count_tokens, truncate_words


def prompt_texts(prompt: object) -> list[str] | None:
    """Normalise `prompt` (string, strings, token ids, or lists of token ids) to texts."""
    if isinstance(prompt, str):
        return [prompt]
    if not isinstance(prompt, list) or not prompt:
        return None
    if all(isinstance(item, str) for item in prompt):
        return [str(item) for item in prompt]
    if all(isinstance(item, int) for item in prompt):
        return [" ".join(str(item) for item in prompt)]
    if all(isinstance(item, list) for item in prompt):
        return [" ".join(str(token) for token in item) for item in prompt]
    return None


async def completions(call: FakeCall) -> Response:
    """Answer `echo: <prompt>` for each prompt, streamed when `stream` is true."""
    if not call.model:
        return invalid_request("you must provide a model parameter")
    prompts = prompt_texts(call.body.get("prompt"))
    if prompts is None:
        return invalid_request(
            "Missing required parameter: 'prompt'.", param="prompt", code="missing_required_parameter"
        )
    limit = int_field(call.body, "max_tokens")
    replies = [truncate_words(call.faults.content or f"echo: {prompt}", limit) for prompt in prompts]
    prompt_tokens = sum(count_tokens(prompt) for prompt in prompts)
    completion_tokens = sum(count_tokens(text) for text, _ in replies)
    usage = {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }
    envelope: dict[str, object] = {
        "id": new_id("cmpl-"),
        "object": "text_completion",
        "created": int(time.time()),
        "model": call.model,
        "system_fingerprint": SYSTEM_FINGERPRINT,
    }
    if call.body.get("stream") is not True:
        choices = [
            {"text": text, "index": index, "logprobs": None, "finish_reason": "length" if cut else "stop"}
            for index, (text, cut) in enumerate(replies)
        ]
        return Response(
            orjson.dumps({**envelope, "choices": choices, "usage": usage}), media_type="application/json"
        )
    chunks: list[dict[str, object]] = []
    for index, (text, cut) in enumerate(replies):
        chunks += [
            {
                **envelope,
                "choices": [{"text": piece, "index": index, "logprobs": None, "finish_reason": None}],
            }
            for piece in stream_pieces(text, call.faults)
        ]
        finish = "length" if cut else "stop"
        chunks.append(
            {**envelope, "choices": [{"text": "", "index": index, "logprobs": None, "finish_reason": finish}]}
        )
    if wants_stream_usage(call.body):
        chunks.append({**envelope, "choices": [], "usage": usage})
    return sse_response(call, chunks)
