"""What a finished request consumed, per endpoint, for its usage event.

Tokens come from the provider's `usage` whenever it reports them. Where it gives none, or counts
no request can have (negative, or above `MAX_PLAUSIBLE_TOKENS`: a malformed report, logged),
chat, completions and embeddings are counted with `TokenEstimator` (the request's text, plus the
text generated or streamed so far) and the event is flagged `estimated`; the functions are async
because a first count awaits the encoding's load. Other units follow what each endpoint is
priced by: images generated, characters of speech input, and seconds of audio for a
transcription that reports `usage: {"type": "duration"}` (whisper; a duration that is negative
or above `MAX_AUDIO_SECONDS` is malformed and counts as none).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from typing import Final

import orjson
from gateway_providers import Endpoint, Usage
from gateway_providers.usage import plausible_usage

from gateway_proxy.tokens import TokenEstimator, append_choice_text
from gateway_proxy.usage import UsageRecord

ESTIMATED_ENDPOINTS: Final = frozenset({Endpoint.CHAT_COMPLETIONS, Endpoint.COMPLETIONS, Endpoint.EMBEDDINGS})
# Endpoints whose response body says something billable besides `usage` tokens.
_INSPECTED_ENDPOINTS: Final = frozenset({Endpoint.IMAGES_GENERATIONS, Endpoint.AUDIO_TRANSCRIPTIONS})
# A year of audio: no transcription request is longer; a larger duration is a malformed report.
MAX_AUDIO_SECONDS: Final = 366 * 24 * 3600

log = logging.getLogger(__name__)


def meter_request(record: UsageRecord, endpoint: Endpoint, body: Mapping[str, object]) -> None:
    """Units known from the request alone (the characters a speech call converts)."""
    if endpoint is Endpoint.AUDIO_SPEECH:
        text = body.get("input")
        record.characters = len(text) if isinstance(text, str) else 0


async def meter_response(
    record: UsageRecord,
    endpoint: Endpoint,
    body: Mapping[str, object],
    response: bytes,
    usage: Usage | None,
    estimator: TokenEstimator,
) -> None:
    """Fill `record` from a complete (non-streamed) success body and the provider's usage."""
    usage = _checked(record, usage)
    record.usage = usage
    needs_estimate = usage is None and endpoint in ESTIMATED_ENDPOINTS
    if not (needs_estimate or endpoint in _INSPECTED_ENDPOINTS):
        return
    payload = _json_object(response)
    if endpoint is Endpoint.IMAGES_GENERATIONS:
        data = payload.get("data")
        record.images = len(data) if isinstance(data, list) else 0
    elif endpoint is Endpoint.AUDIO_TRANSCRIPTIONS:
        record.audio_seconds = _duration_seconds(payload)
    if needs_estimate:
        generated: list[str] = []
        append_choice_text(payload, generated)
        await _estimate(record, body, "".join(generated), estimator)


async def meter_stream(
    record: UsageRecord,
    body: Mapping[str, object],
    usage: Usage | None,
    streamed_text: list[str],
    estimator: TokenEstimator,
) -> None:
    """Fill `record` at the end of a stream: the provider's usage, else input + what was streamed."""
    usage = _checked(record, usage)
    record.usage = usage
    if usage is None and record.endpoint in ESTIMATED_ENDPOINTS:
        await _estimate(record, body, "".join(streamed_text), estimator)


def _checked(record: UsageRecord, usage: Usage | None) -> Usage | None:
    """The provider's usage, or None (with a warning) when its counts cannot be real."""
    plausible = plausible_usage(usage)
    if plausible is None and usage is not None:
        deployment = record.deployment
        log.warning(
            "the provider reported token counts no request can have; counting them instead",
            extra={
                "usage_request_id": record.request_id,
                "deployment_id": deployment.id if deployment is not None else "",
                "reported_prompt_tokens": usage.prompt_tokens,
                "reported_completion_tokens": usage.completion_tokens,
            },
        )
    return plausible


async def _estimate(
    record: UsageRecord, body: Mapping[str, object], generated: str, estimator: TokenEstimator
) -> None:
    await estimator.ready()
    record.usage = Usage(
        prompt_tokens=estimator.prompt_tokens(body), completion_tokens=estimator.count(generated)
    )
    record.estimated = True


def _json_object(raw: bytes) -> Mapping[str, object]:
    try:
        parsed = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _duration_seconds(payload: Mapping[str, object]) -> int:
    usage = payload.get("usage")
    if isinstance(usage, Mapping) and usage.get("type") == "duration":
        seconds = usage.get("seconds")
        if (
            isinstance(seconds, int | float)
            and not isinstance(seconds, bool)
            and math.isfinite(seconds)
            and 0 <= seconds <= MAX_AUDIO_SECONDS
        ):
            return round(seconds)
    return 0
