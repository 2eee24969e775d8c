"""Secrets never reach audit images."""

from __future__ import annotations

from gateway_control.domain.audit.redaction import REDACTED, redact


def test_secret_looking_keys_are_redacted_at_any_depth() -> None:
    image = {
        "name": "openai",
        "credentials": {"api_key": "sk-canary"},
        "nested": [{"password": "hunter2", "token": "t", "ok": 1}],
        "key": "sk-gw-secret",
        "prefix": "sk-gw-AbCd",
        "has_credentials": True,
    }
    redacted = redact(image)
    assert redacted["credentials"] == REDACTED
    assert redacted["nested"] == [{"password": REDACTED, "token": REDACTED, "ok": 1}]
    assert redacted["key"] == REDACTED
    assert redacted["prefix"] == "sk-gw-AbCd"
    assert redacted["name"] == "openai"
    assert "sk-canary" not in repr(redacted)
    assert "hunter2" not in repr(redacted)


def test_none_values_stay_none_and_scalars_pass_through() -> None:
    assert redact({"password": None}) == {"password": None}
    assert redact("plain") == "plain"
    assert redact([1, "a"]) == [1, "a"]
