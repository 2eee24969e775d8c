"""Per-endpoint body checks: the result, and 400 naming the field."""

from __future__ import annotations

import pytest
from gateway_proxy.body import ClientRequest
from gateway_proxy.errors import InvalidRequest
from gateway_proxy.validate import (
    DEFAULT_MODERATION_MODEL,
    validate_completions,
    validate_embeddings,
    validate_images,
    validate_moderations,
    validate_speech,
)


def test_results() -> None:
    assert validate_completions({"model": "m", "prompt": ["a"], "stream": True}) == ClientRequest(
        "m", stream=True, include_usage=False
    )
    assert validate_embeddings({"model": "m", "input": "x", "encoding_format": "base64"}).model == "m"
    assert validate_images({"prompt": "p"}).model == "dall-e-2"
    assert validate_moderations({"input": "x"}).model == DEFAULT_MODERATION_MODEL
    assert validate_speech({"model": "m", "input": "x", "voice": {"id": "v"}, "speed": 1}).model == "m"


@pytest.mark.parametrize(
    ("validator", "body", "param", "code"),
    [
        (validate_completions, {"model": "m"}, "prompt", "missing_required_parameter"),
        (validate_completions, {"model": "m", "prompt": True}, "prompt", "invalid_type"),
        (validate_embeddings, {"model": "m", "input": 3}, "input", "invalid_type"),
        (validate_embeddings, {"input": "x"}, "model", "missing_required_parameter"),
        (validate_images, {"prompt": "p", "size": 1024}, "size", "invalid_type"),
        (validate_speech, {"model": "m", "input": "x", "voice": 1}, "voice", "invalid_type"),
        (validate_moderations, {"input": {"x": 1}}, "input", "invalid_type"),
    ],
)
def test_wrong_bodies_name_the_param(
    validator: object, body: dict[str, object], param: str, code: str
) -> None:
    assert callable(validator)
    with pytest.raises(InvalidRequest) as raised:
        validator(body)
    assert (raised.value.param, raised.value.code, raised.value.status) == (param, code, 400)
