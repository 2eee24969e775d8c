"""Body parsing and chat-completion field checks (400 with OpenAI's param)."""

from __future__ import annotations

import pytest
from gateway_proxy.body import ChatRequest, parse_json_object, validate_chat
from gateway_proxy.errors import InvalidRequest


@pytest.mark.parametrize("raw", [b"", b"{", b"{'model': 1}", b"\xff", b'{"a": 1}}'])
def test_invalid_json_is_a_400_without_param(raw: bytes) -> None:
    with pytest.raises(InvalidRequest) as raised:
        parse_json_object(raw)
    assert raised.value.status == 400
    assert raised.value.param is None
    assert "could not parse the JSON body" in raised.value.message


@pytest.mark.parametrize("raw", [b"[]", b"1", b'"text"', b"null"])
def test_json_that_is_not_an_object_is_a_400(raw: bytes) -> None:
    with pytest.raises(InvalidRequest, match="must be a JSON object"):
        parse_json_object(raw)


def test_unknown_fields_survive_parsing() -> None:
    body = parse_json_object(b'{"model": "m", "messages": [], "brand_new_field": {"x": [1, 2]}}')
    assert body["brand_new_field"] == {"x": [1, 2]}


MESSAGES = [{"role": "user", "content": "hi"}]


@pytest.mark.parametrize(
    ("body", "param", "code"),
    [
        ({"messages": MESSAGES}, "model", "missing_required_parameter"),
        ({"model": None, "messages": MESSAGES}, "model", "missing_required_parameter"),
        ({"model": 42, "messages": MESSAGES}, "model", "invalid_type"),
        ({"model": "", "messages": MESSAGES}, "model", "invalid_value"),
        ({"model": "m"}, "messages", "missing_required_parameter"),
        ({"model": "m", "messages": "hi"}, "messages", "invalid_type"),
        ({"model": "m", "messages": MESSAGES, "stream": "yes"}, "stream", "invalid_type"),
        ({"model": "m", "messages": MESSAGES, "stream": 1}, "stream", "invalid_type"),
        ({"model": "m", "messages": MESSAGES, "stream_options": []}, "stream_options", "invalid_type"),
        (
            {"model": "m", "messages": MESSAGES, "stream": True, "stream_options": {"include_usage": "y"}},
            "stream_options.include_usage",
            "invalid_type",
        ),
    ],
)
def test_wrong_types_name_the_param(body: dict[str, object], param: str, code: str) -> None:
    with pytest.raises(InvalidRequest) as raised:
        validate_chat(body)
    assert raised.value.param == param
    assert raised.value.code == code
    assert raised.value.to_dict()["error"]["param"] == param  # type: ignore[index]


def test_wrong_type_message_follows_openai_wording() -> None:
    with pytest.raises(InvalidRequest) as raised:
        validate_chat({"model": "m", "messages": "hi"})
    assert raised.value.message == "Invalid type for 'messages': expected an array, but got a string instead."


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({}, ChatRequest("m", stream=False, include_usage=False)),
        ({"stream": None}, ChatRequest("m", stream=False, include_usage=False)),
        ({"stream": True}, ChatRequest("m", stream=True, include_usage=False)),
        ({"stream": True, "stream_options": {"include_usage": True}}, ChatRequest("m", True, True)),
        ({"stream": True, "stream_options": {"include_usage": False}}, ChatRequest("m", True, False)),
        # include_usage means nothing without stream.
        ({"stream": False, "stream_options": {"include_usage": True}}, ChatRequest("m", False, False)),
    ],
)
def test_valid_chat_requests(extra: dict[str, object], expected: ChatRequest) -> None:
    assert validate_chat({"model": "m", "messages": MESSAGES, **extra}) == expected
