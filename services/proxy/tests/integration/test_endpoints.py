"""Every OpenAI endpoint besides chat through the proxy with the official openai SDK, and the
usage event each one publishes."""

from __future__ import annotations

import base64
import struct
from typing import TYPE_CHECKING

import openai
import pytest

if TYPE_CHECKING:  # conftest is not importable at runtime under --import-mode=importlib
    from conftest import Harness


async def test_legacy_completion_sync(running: Harness) -> None:
    key, _ = await running.create_key()
    raw = await running.client(key).completions.with_raw_response.create(
        model="demo", prompt="say this please", max_tokens=20, extra_body={"brand_new": 1}
    )
    completion = raw.parse()
    assert completion.choices[0].text == "echo: say this please"
    assert completion.usage is not None
    (forwarded,) = running.fake.requests("/v1/completions")
    assert forwarded["body"]["model"] == "gpt-4o-mini"  # type: ignore[index]
    assert forwarded["body"]["brand_new"] == 1  # type: ignore[index]
    event, _ = await running.usage_event(raw.headers["x-request-id"])
    assert event.endpoint == "completions"
    assert event.usage.prompt_tokens == completion.usage.prompt_tokens
    assert event.usage.completion_tokens == completion.usage.completion_tokens
    assert not event.usage.estimated


async def test_legacy_completion_stream_drops_the_forced_usage_chunk(running: Harness) -> None:
    key, _ = await running.create_key()
    raw = await running.client(key).completions.with_raw_response.create(
        model="demo", prompt="one two three", stream=True
    )
    chunks = [chunk async for chunk in raw.parse()]
    assert "".join(c.choices[0].text for c in chunks if c.choices) == "echo: one two three"
    assert all(c.usage is None for c in chunks)
    (forwarded,) = running.fake.requests("/v1/completions")
    assert forwarded["body"]["stream_options"] == {"include_usage": True}  # type: ignore[index]
    event, _ = await running.usage_event(raw.headers["x-request-id"])
    assert event.stream
    assert event.usage.completion_tokens == 4  # the fake counts words: "echo:" + 3
    assert not event.usage.estimated


@pytest.mark.parametrize("encoding", ["float", "base64"])
async def test_embeddings_in_both_encodings_are_passed_through(running: Harness, encoding: str) -> None:
    key, _ = await running.create_key()
    client = running.client(key)
    raw = await client.embeddings.with_raw_response.create(
        model="demo",
        input=["first text", "second text"],
        encoding_format=encoding,  # type: ignore[arg-type]
    )
    body = raw.http_response.json()
    vectors = [item["embedding"] for item in body["data"]]
    assert len(vectors) == 2
    if encoding == "base64":
        assert all(isinstance(v, str) for v in vectors)
        floats = struct.unpack(f"<{len(base64.b64decode(vectors[0])) // 4}f", base64.b64decode(vectors[0]))
        assert len(floats) == 16
    else:
        assert all(isinstance(v, list) and len(v) == 16 for v in vectors)
    (forwarded,) = running.fake.requests("/v1/embeddings")
    assert forwarded["body"]["encoding_format"] == encoding  # type: ignore[index]
    event, _ = await running.usage_event(raw.headers["x-request-id"])
    assert event.endpoint == "embeddings"
    assert event.usage.prompt_tokens == body["usage"]["prompt_tokens"] > 0


async def test_embedding_of_one_string_with_the_sdk_default(running: Harness) -> None:
    key, _ = await running.create_key()
    result = await running.client(key).embeddings.create(model="demo", input="just one")
    assert len(result.data) == 1
    assert len(result.data[0].embedding) == 16  # the SDK asked for base64 and decoded it


async def test_image_generation_counts_images_and_tokens(running: Harness) -> None:
    key, _ = await running.create_key()
    raw = await running.client(key).images.with_raw_response.generate(
        model="gpt-image-1", prompt="a red square", n=2
    )
    images = raw.parse()
    assert images.data is not None
    assert len(images.data) == 2
    assert images.data[0].b64_json
    event, _ = await running.usage_event(raw.headers["x-request-id"])
    assert event.endpoint == "images.generations"
    assert event.usage.images == 2
    assert event.usage.completion_tokens > 0  # gpt-image reports output tokens


async def test_image_generation_without_a_model_uses_openais_default_alias(running: Harness) -> None:
    key, _ = await running.create_key()
    raw = await running.client(key).images.with_raw_response.generate(prompt="a blue square")
    assert raw.parse().data
    (forwarded,) = running.fake.requests("/v1/images/generations")
    assert forwarded["body"]["model"] == "dall-e-2"  # type: ignore[index]
    event, _ = await running.usage_event(raw.headers["x-request-id"])
    assert (event.model, event.usage.images) == ("dall-e-2", 1)


async def test_speech_returns_the_audio_bytes(running: Harness) -> None:
    key, _ = await running.create_key()
    text = "hello from the gateway"
    async with running.client(key).audio.speech.with_streaming_response.create(
        model="demo", voice="alloy", input=text, response_format="wav"
    ) as response:
        assert response.headers["content-type"] == "audio/wav"
        audio = b"".join([chunk async for chunk in response.iter_bytes()])
        request_id = response.headers["x-request-id"]
    assert audio[:4] == b"RIFF"
    assert audio[8:12] == b"WAVE"
    event, _ = await running.usage_event(request_id)
    assert event.endpoint == "audio.speech"
    assert event.usage.characters == len(text)
    assert event.status_code == 200


async def test_transcription_upload_is_forwarded_as_multipart(running: Harness) -> None:
    key, _ = await running.create_key()
    audio = b"RIFF" + bytes(3996)
    raw = await running.client(key).audio.transcriptions.with_raw_response.create(
        model="whisper-1",
        file=("meeting.wav", audio, "audio/wav"),
        response_format="verbose_json",
        timestamp_granularities=["word", "segment"],
    )
    transcript = raw.parse()
    assert transcript.text == "transcript of meeting.wav (4000 bytes)"
    (forwarded,) = running.fake.requests("/v1/audio/transcriptions")
    body = forwarded["body"]
    assert isinstance(body, dict)
    assert body["model"] == "whisper-1"
    assert body["timestamp_granularities[]"] == ["word", "segment"]
    event, _ = await running.usage_event(raw.headers["x-request-id"])
    assert event.endpoint == "audio.transcriptions"
    assert event.usage.audio_seconds >= 1  # whisper reports duration, not tokens


async def test_transcription_without_a_file_is_400_naming_it(running: Harness) -> None:
    key, _ = await running.create_key()
    async with running.http() as http:
        response = await http.post(
            "/v1/audio/transcriptions",
            data={"model": "whisper-1"},
            files={"not_file": ("x.wav", b"abc", "audio/wav")},
            headers={"authorization": f"Bearer {key}"},
        )
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "file"


async def test_moderation_without_a_model_uses_openais_default_alias(running: Harness) -> None:
    key, _ = await running.create_key()
    raw = await running.client(key).moderations.with_raw_response.create(input=["I will kill it", "hello"])
    result = raw.parse()
    assert [r.flagged for r in result.results] == [True, False]
    event, _ = await running.usage_event(raw.headers["x-request-id"])
    assert (event.endpoint, event.model) == ("moderations", "omni-moderation-latest")


@pytest.mark.parametrize(
    ("path", "body", "param"),
    [
        ("/v1/completions", {"model": "demo", "prompt": 5}, "prompt"),
        ("/v1/completions", {"model": "demo"}, "prompt"),
        ("/v1/completions", {"model": "demo", "prompt": "x", "max_tokens": "10"}, "max_tokens"),
        ("/v1/embeddings", {"model": "demo", "input": {"a": 1}}, "input"),
        ("/v1/embeddings", {"model": "demo", "input": "x", "dimensions": 1.5}, "dimensions"),
        ("/v1/images/generations", {"prompt": ["a"]}, "prompt"),
        ("/v1/images/generations", {"prompt": "a", "n": "2"}, "n"),
        ("/v1/audio/speech", {"model": "demo", "input": "x"}, "voice"),
        ("/v1/audio/speech", {"model": "demo", "input": "x", "voice": "a", "speed": "fast"}, "speed"),
        ("/v1/moderations", {"input": True}, "input"),
        ("/v1/chat/completions", {"model": 3, "messages": []}, "model"),
    ],
)
async def test_wrong_types_are_400_naming_the_param(
    running: Harness, path: str, body: dict[str, object], param: str
) -> None:
    key, _ = await running.create_key()
    async with running.http() as http:
        response = await http.post(path, json=body, headers={"authorization": f"Bearer {key}"})
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["param"] == param
    assert error["type"] == "invalid_request_error"
    assert running.fake.requests() == []


async def test_sdk_raises_bad_request_for_a_wrong_type(running: Harness) -> None:
    key, _ = await running.create_key()
    with pytest.raises(openai.BadRequestError) as raised:
        await running.client(key).embeddings.create(
            model="demo", input="x", extra_body={"dimensions": "many"}
        )
    assert raised.value.param == "dimensions"
