"""MASTER_KEY_FILE / MASTER_KEY_PREVIOUS_FILE: the master key read from a file instead of the environment."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest
from gateway_common.settings import SettingsError, load_settings
from gateway_control.settings import ControlSettings

from .test_settings import _clean_env, _good  # noqa: F401  (_clean_env: an autouse fixture)


def _key_file(tmp_path: Path, name: str, content: str) -> Path:
    path = tmp_path / name
    path.write_text(content)
    return path


def _without_master_key() -> dict[str, object]:
    values = _good()
    del values["master_key"]
    return values


def test_master_key_is_read_from_the_file_named_in_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw = os.urandom(32)
    # A mounted Secret usually ends with a newline: surrounding whitespace is ignored.
    path = _key_file(tmp_path, "master", base64.b64encode(raw).decode() + "\n")
    monkeypatch.setenv("MASTER_KEY_FILE", str(path))
    settings = load_settings(ControlSettings, **_without_master_key())
    assert settings.master_key_bytes == raw
    assert base64.b64encode(raw).decode() not in repr(settings)


def test_previous_master_key_from_a_file_opens_old_records(tmp_path: Path) -> None:
    previous = os.urandom(32)
    path = _key_file(tmp_path, "previous", base64.b64encode(previous).decode())
    settings = load_settings(
        ControlSettings, **_good(), master_key_previous_file=str(path), master_key_previous_id="mk0"
    )
    assert settings.master_keys["mk0"] == previous


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({}, "MASTER_KEY (or MASTER_KEY_FILE) is required"),
        ({"master_key": "x", "master_key_file": "KEYFILE"}, "MASTER_KEY and MASTER_KEY_FILE are both set"),
        ({"master_key_file": "/nonexistent/master"}, "MASTER_KEY_FILE: cannot read /nonexistent/master"),
        ({"master_key_file": "SHORTFILE"}, "MASTER_KEY_FILE must decode to 32 bytes"),
        ({"master_key_file": "TEXTFILE"}, "MASTER_KEY_FILE must be base64 text"),
        (
            {"master_key_file": "KEYFILE", "master_key_previous": "x", "master_key_previous_file": "KEYFILE"},
            "MASTER_KEY_PREVIOUS and MASTER_KEY_PREVIOUS_FILE are both set",
        ),
    ],
)
def test_bad_master_key_files_name_the_setting(
    tmp_path: Path, overrides: dict[str, str], message: str
) -> None:
    files = {
        "KEYFILE": _key_file(tmp_path, "key", base64.b64encode(os.urandom(32)).decode()),
        "SHORTFILE": _key_file(tmp_path, "short", base64.b64encode(b"short").decode()),
        "TEXTFILE": _key_file(tmp_path, "text", "not base64 !!"),
    }
    values = {name: str(files.get(value, value)) for name, value in overrides.items()}
    with pytest.raises(SettingsError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_settings(ControlSettings, **_without_master_key(), **values)
