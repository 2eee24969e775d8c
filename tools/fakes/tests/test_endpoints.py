"""The non-chat endpoints through the official SDK."""

from __future__ import annotations

import base64
import struct

import openai
import pytest
from gateway_fakes import FakeProcess


def test_models(client: openai.OpenAI) -> None:
    models = [model.id for model in client.models.list()]
    assert "gpt-4o" in models
    assert client.models.retrieve("gpt-4o").object == "model"
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("no-such-model")


def test_completions_sync_and_stream(client: openai.OpenAI) -> None:
    completion = client.completions.create(model="gpt-3.5-turbo-instruct", prompt="say this")
    assert completion.object == "text_completion"
    assert completion.choices[0].text == "echo: say this"
    assert completion.usage is not None
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (2, 3)
    chunks = list(
        client.completions.create(
            model="gpt-3.5-turbo-instruct",
            prompt="say this",
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    assert "".join(chunk.choices[0].text for chunk in chunks if chunk.choices) == "echo: say this"
    assert chunks[-1].choices == []
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.total_tokens == 5


def test_embeddings_float_and_base64_agree(client: openai.OpenAI, fake_openai: FakeProcess) -> None:
    as_float = client.embeddings.create(
        model="text-embedding-3-small", input="hello", encoding_format="float"
    )
    as_base64 = client.embeddings.create(
        model="text-embedding-3-small", input="hello", encoding_format="base64"
    )
    vector = as_float.data[0].embedding
    assert len(vector) == 16
    assert abs(sum(v * v for v in vector) - 1) < 1e-5
    # The SDK returns the base64 string as is when the caller asked for base64 explicitly.
    raw = as_base64.data[0].embedding
    assert isinstance(raw, str)
    assert list(struct.unpack("<16f", base64.b64decode(raw))) == vector
    # Left unset, the SDK asks for base64 on the wire and decodes it to floats itself.
    default = client.embeddings.create(model="text-embedding-3-small", input="hello")
    assert default.data[0].embedding == vector
    assert fake_openai.requests()[-1]["body"] == {
        "model": "text-embedding-3-small",
        "input": "hello",
        "encoding_format": "base64",
    }


def test_embeddings_list_input_and_dimensions(client: openai.OpenAI) -> None:
    result = client.embeddings.create(model="text-embedding-3-large", input=["a b", "c"], dimensions=4)
    assert [item.index for item in result.data] == [0, 1]
    assert all(len(item.embedding) == 4 for item in result.data)
    assert result.data[0].embedding != result.data[1].embedding
    assert (result.usage.prompt_tokens, result.usage.total_tokens) == (3, 3)
    assert result.model == "text-embedding-3-large"


def test_moderations(client: openai.OpenAI) -> None:
    result = client.moderations.create(model="omni-moderation-latest", input=["I will kill it", "a nice day"])
    assert result.results[0].flagged
    assert result.results[0].categories.violence
    assert not result.results[1].flagged


def test_images_b64_and_url(client: openai.OpenAI, fake_openai: FakeProcess) -> None:
    image = client.images.generate(model="gpt-image-1", prompt="a red square", n=2)
    assert image.data is not None
    assert len(image.data) == 2
    assert base64.b64decode(image.data[0].b64_json or "").startswith(b"\x89PNG")
    assert image.usage is not None
    assert image.usage.input_tokens == 3
    by_url = client.images.generate(model="dall-e-3", prompt="a red square")
    assert by_url.data is not None
    assert by_url.data[0].url is not None
    assert by_url.data[0].url.startswith(fake_openai.root_url)
    assert by_url.data[0].revised_prompt == "a red square"


def test_speech_returns_audio_bytes(client: openai.OpenAI) -> None:
    wav = client.audio.speech.create(model="tts-1", voice="alloy", input="hello world", response_format="wav")
    data = wav.read()
    assert data[:4] == b"RIFF"
    assert data[8:12] == b"WAVE"
    mp3 = client.audio.speech.create(model="tts-1", voice="alloy", input="hello world")
    assert mp3.response.headers["content-type"] == "audio/mpeg"
    assert mp3.read().startswith(b"ID3")


def test_transcriptions_multipart(client: openai.OpenAI, fake_openai: FakeProcess) -> None:
    audio = ("clip.wav", b"RIFF" + b"\x00" * 64000, "audio/wav")
    result = client.audio.transcriptions.create(model="whisper-1", file=audio)
    assert result.text == "transcript of clip.wav (64004 bytes)"
    text = client.audio.transcriptions.create(model="gpt-4o-transcribe", file=audio, response_format="text")
    assert text == "transcript of clip.wav (64004 bytes)\n"
    verbose = client.audio.transcriptions.create(
        model="whisper-1", file=audio, response_format="verbose_json", timestamp_granularities=["word"]
    )
    assert verbose.duration == 2.0
    assert verbose.words is not None
    assert [word.word for word in verbose.words] == ["transcript", "of", "clip.wav", "(64004", "bytes)"]
    recorded = fake_openai.requests("/v1/audio/transcriptions")[0]["body"]
    assert recorded == {
        "model": "whisper-1",
        "file": {"filename": "clip.wav", "content_type": "audio/wav", "size": 64004},
    }
