"""SSO and master-key rotation settings: checked at startup, with messages naming the setting."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

import pytest
from gateway_common.settings import SettingsError, load_settings
from gateway_control.settings import ControlSettings

from .test_settings import _good as good_settings


def _good(**extra: Any) -> dict[str, Any]:
    return {**good_settings(), **extra}


def _provider(**changes: Any) -> dict[str, Any]:
    return {
        "name": "corp",
        "display_name": "Corp SSO",
        "issuer": "https://idp.example.com",
        "client_id": "gateway",
        "client_secret": "s3cret-s3cret",
        **changes,
    }


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.lower() in ControlSettings.model_fields or name == "GATEWAY_CONFIG_FILE":
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def test_providers_load_from_the_environment_as_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OIDC_PROVIDERS", json.dumps([_provider(default_tenant="eng", default_role="viewer")]))
    settings = load_settings(ControlSettings, **_good(public_url="https://gw.example.com"))
    [corp] = settings.oidc_providers
    assert (corp.name, corp.default_tenant, corp.default_role) == ("corp", "eng", "viewer")
    assert corp.scopes == ["openid", "email", "profile"]
    assert "s3cret" not in repr(settings)


def test_providers_load_from_yaml(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "gateway.yaml"
    config.write_text(
        "control:\n  public_url: https://gw.example.com/console\n  oidc_providers:\n"
        "    - {name: corp, display_name: Corp, issuer: 'https://idp.example.com', client_id: gw,"
        " client_secret: x, allowed_email_domains: [example.com]}\n"
    )
    monkeypatch.setenv("GATEWAY_CONFIG_FILE", str(config))
    settings = load_settings(ControlSettings, **_good())
    assert settings.oidc_providers[0].allowed_email_domains == ["example.com"]


@pytest.mark.parametrize(
    ("provider", "public_url", "named"),
    [
        (_provider(algorithms=["HS256"]), "https://gw.example.com", "algorithms"),
        (_provider(algorithms=["none"]), "https://gw.example.com", "algorithms"),
        (_provider(scopes=["email"]), "https://gw.example.com", "openid"),
        (_provider(name="Has Spaces"), "https://gw.example.com", "name"),
        (_provider(default_role="owner"), "https://gw.example.com", "default_role"),
        (_provider(surprise=True), "https://gw.example.com", "surprise"),
        (_provider(), "", "PUBLIC_URL"),
    ],
)
def test_bad_provider_settings_are_refused(
    monkeypatch: pytest.MonkeyPatch, provider: dict[str, Any], public_url: str, named: str
) -> None:
    monkeypatch.setenv("OIDC_PROVIDERS", json.dumps([provider]))
    with pytest.raises(SettingsError, match=f"(?i){named}"):
        load_settings(ControlSettings, **_good(public_url=public_url))


def test_provider_names_are_unique(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OIDC_PROVIDERS", json.dumps([_provider(), _provider(display_name="Again")]))
    with pytest.raises(SettingsError, match="unique"):
        load_settings(ControlSettings, **_good(public_url="https://gw.example.com"))


def test_a_previous_master_key_opens_alongside_the_current_one() -> None:
    previous = os.urandom(32)
    settings = load_settings(
        ControlSettings,
        **_good(
            master_key_id="mk2",
            master_key_previous=base64.b64encode(previous).decode(),
            master_key_previous_id="mk1",
        ),
    )
    assert settings.master_keys == {"mk2": settings.master_key_bytes, "mk1": previous}
    assert load_settings(ControlSettings, **_good()).master_keys.keys() == {"mk1"}
    with pytest.raises(SettingsError, match="MASTER_KEY_PREVIOUS"):
        load_settings(
            ControlSettings, **_good(master_key_previous="dG9vIHNob3J0", master_key_previous_id="mk0")
        )
