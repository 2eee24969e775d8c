"""`POST /v1/audio/speech` (binary audio) and `POST /v1/audio/transcriptions` (multipart)."""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Mapping
from typing import Final

import orjson
from starlette.responses import PlainTextResponse, Response

from gateway_fakes.openai.call import FakeCall
from gateway_fakes.openai.errors import invalid_request
from gateway_fakes.openai.text import count_tokens

SAMPLE_RATE = 24_000  # OpenAI's speech output rate (16-bit mono for wav/pcm)
_SECONDS_PER_WORD = 0.05
_UPLOAD_BYTES_PER_SECOND = 32_000  # assume 16 kHz 16-bit mono input when estimating duration

SPEECH_MEDIA_TYPES: Final[Mapping[str, str]] = {
    "mp3": "audio/mpeg",
    "opus": "audio/opus",
    "aac": "audio/aac",
    "flac": "audio/flac",
    "wav": "audio/wav",
    "pcm": "audio/pcm",
}


def _silence(seconds: float) -> bytes:
    return b"\x00\x00" * int(SAMPLE_RATE * seconds)


def _wav(pcm: bytes) -> bytes:
    header = struct.pack(
        "<4sI4s4sIHHIIHH4sI",
        b"RIFF",
        36 + len(pcm),
        b"WAVE",
        b"fmt ",
        16,
        1,
        1,
        SAMPLE_RATE,
        SAMPLE_RATE * 2,
        2,
        16,
        b"data",
        len(pcm),
    )
    return header + pcm


def _pseudo_encoded(kind: str, text: str) -> bytes:
    # Compressed formats only need to be stable, non-empty bytes for the gateway to relay.
    digest = hashlib.sha256(f"{kind}:{text}".encode()).digest()
    prefix = b"ID3\x04\x00\x00\x00\x00\x00\x00" if kind == "mp3" else kind.encode()
    return prefix + digest * max(1, count_tokens(text))


async def audio_speech(call: FakeCall) -> Response:
    """Return audio bytes: real (silent) WAV/PCM, or stable stand-in bytes for other formats."""
    text = call.body.get("input")
    if not isinstance(text, str) or not text:
        return invalid_request("Missing required parameter: 'input'.", "input", "missing_required_parameter")
    if not isinstance(call.body.get("voice"), str):
        return invalid_request("Missing required parameter: 'voice'.", "voice", "missing_required_parameter")
    kind = str(call.body.get("response_format", "mp3"))
    media_type = SPEECH_MEDIA_TYPES.get(kind)
    if media_type is None:
        return invalid_request(f"Invalid value: '{kind}'.", "response_format", "invalid_value")
    pcm = _silence(max(1, count_tokens(text)) * _SECONDS_PER_WORD)
    renderers = {"wav": lambda: _wav(pcm), "pcm": lambda: pcm}
    audio = renderers.get(kind, lambda: _pseudo_encoded(kind, text))()
    return Response(audio, media_type=media_type)


async def audio_transcriptions(call: FakeCall) -> Response:
    """Transcribe the uploaded `file` as `transcript of <name> (<n> bytes)` (or `x-fake-content`)."""
    upload = call.files.get("file")
    if upload is None:
        return invalid_request("Missing required parameter: 'file'.", "file", "missing_required_parameter")
    if not call.model:
        return invalid_request("you must provide a model parameter")
    text = call.faults.content or f"transcript of {upload.filename} ({len(upload.data)} bytes)"
    duration = max(1.0, round(len(upload.data) / _UPLOAD_BYTES_PER_SECOND, 2))
    usage = _transcription_usage(call.model, text, duration)
    kind = str(call.body.get("response_format", "json"))
    if kind == "text":
        return PlainTextResponse(text + "\n")
    if kind in ("srt", "vtt"):
        return PlainTextResponse(_subtitles(kind, text, duration))
    if kind == "json":
        return Response(orjson.dumps({"text": text, "usage": usage}), media_type="application/json")
    if kind == "verbose_json":
        return Response(orjson.dumps(_verbose(call, text, duration, usage)), media_type="application/json")
    return invalid_request(f"Invalid value: '{kind}'.", "response_format", "invalid_value")


def _transcription_usage(model: str, text: str, duration: float) -> dict[str, object]:
    if model.startswith("whisper"):
        return {"type": "duration", "seconds": int(duration + 0.999)}
    audio_tokens = int(duration * 10)
    output = count_tokens(text)
    return {
        "type": "tokens",
        "input_tokens": audio_tokens,
        "input_token_details": {"text_tokens": 0, "audio_tokens": audio_tokens},
        "output_tokens": output,
        "total_tokens": audio_tokens + output,
    }


def _verbose(call: FakeCall, text: str, duration: float, usage: dict[str, object]) -> dict[str, object]:
    body: dict[str, object] = {
        "task": "transcribe",
        "language": str(call.body.get("language", "english")),
        "duration": duration,
        "text": text,
        "segments": [
            {
                "id": 0,
                "seek": 0,
                "start": 0.0,
                "end": duration,
                "text": text,
                "tokens": list(range(count_tokens(text))),
                "temperature": 0.0,
                "avg_logprob": -0.1,
                "compression_ratio": 1.0,
                "no_speech_prob": 0.0,
            }
        ],
        "usage": usage,
    }
    granularities = call.body.get("timestamp_granularities[]")
    if granularities == "word" or (isinstance(granularities, list) and "word" in granularities):
        words = text.split()
        step = duration / max(1, len(words))
        body["words"] = [
            {"word": word, "start": round(i * step, 2), "end": round((i + 1) * step, 2)}
            for i, word in enumerate(words)
        ]
    return body


def _timestamp(seconds: float, separator: str) -> str:
    millis = round(seconds * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02}:{minutes:02}:{secs:02}{separator}{millis:03}"


def _subtitles(kind: str, text: str, duration: float) -> str:
    if kind == "srt":
        return f"1\n{_timestamp(0, ',')} --> {_timestamp(duration, ',')}\n{text}\n\n"
    return f"WEBVTT\n\n{_timestamp(0, '.')} --> {_timestamp(duration, '.')}\n{text}\n\n"
