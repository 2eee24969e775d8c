"""ControlSettings: secrets validated at startup, with messages naming the setting."""

from __future__ import annotations

import base64
import os

import pytest
from gateway_common.settings import SettingsError, load_settings
from gateway_control.settings import ControlSettings


def _good() -> dict[str, object]:
    return {
        "database_url": "postgresql://u@127.0.0.1:1/db",
        "redis_url": "redis://127.0.0.1:1/0",
        "nats_url": "nats://127.0.0.1:1",
        "key_pepper": "pepper-pepper-pepper",
        "dataplane_key": base64.b64encode(os.urandom(32)).decode(),
        "master_key": base64.b64encode(os.urandom(32)).decode(),
        "internal_token": "internal-token-0123456789",
        "jwt_secret": "j" * 40,
    }


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    for name in list(os.environ):
        if name.lower() in ControlSettings.model_fields or name == "GATEWAY_CONFIG_FILE":
            monkeypatch.delenv(name)
    monkeypatch.chdir(str(tmp_path))


def test_good_settings_load_with_defaults() -> None:
    settings = load_settings(ControlSettings, **_good())
    assert settings.control_port == 8081
    assert settings.accounting_grpc_target == "127.0.0.1:50051"
    assert len(settings.master_key_bytes) == 32
    assert "pepper-pepper" not in repr(settings)


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"master_key": base64.b64encode(b"short").decode()}, "MASTER_KEY"),
        ({"master_key": "not base64 !!"}, "MASTER_KEY"),
        ({"dataplane_key": base64.b64encode(os.urandom(16)).decode()}, "DATAPLANE_KEY"),
        ({"jwt_secret": "too-short"}, "JWT_SECRET"),
        ({"admin_email": "admin@example.com"}, "ADMIN_PASSWORD"),
        ({"admin_email": "admin", "admin_password": "long-enough-password"}, "ADMIN_EMAIL"),
        ({"admin_email": "a@b.c", "admin_password": "short"}, "ADMIN_PASSWORD"),
        ({"control_port": 70000}, "CONTROL_PORT"),
        ({"cors_allowed_origins": "https://ui.example.com, *"}, "CORS_ALLOWED_ORIGINS"),
        ({"cors_allowed_origins": "https://ui.example.com/path"}, "CORS_ALLOWED_ORIGINS"),
        ({"refresh_token_ttl_s": 10}, "REFRESH_TOKEN_TTL_S"),
    ],
)
def test_bad_settings_name_the_setting(overrides: dict[str, object], named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        load_settings(ControlSettings, **{**_good(), **overrides})


def test_missing_setting_is_named() -> None:
    values = _good()
    del values["jwt_secret"]
    with pytest.raises(SettingsError, match="JWT_SECRET"):
        load_settings(ControlSettings, **values)


def test_cors_origins_are_parsed_and_empty_means_none() -> None:
    assert load_settings(ControlSettings, **_good()).cors_origins == []
    listed = load_settings(
        ControlSettings,
        **{**_good(), "cors_allowed_origins": " https://ui.example.com ,http://localhost:5173,"},
    )
    assert listed.cors_origins == ["https://ui.example.com", "http://localhost:5173"]
