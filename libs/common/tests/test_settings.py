from pathlib import Path

import pytest
from gateway_common.settings import CONFIG_FILE_ENV, GatewaySettings, SettingsError, load_settings


class _Demo(GatewaySettings):
    service_name: str = "demo"
    demo_port: int = 1
    redis_url: str = "redis://default"


def test_environment_beats_yaml_which_beats_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "gateway.yaml"
    config.write_text("redis_url: redis://from-yaml\ndemo:\n  demo_port: 7\n")
    monkeypatch.setenv(CONFIG_FILE_ENV, str(config))
    monkeypatch.chdir(tmp_path)
    assert load_settings(_Demo).demo_port == 7
    assert load_settings(_Demo).redis_url == "redis://from-yaml"
    monkeypatch.setenv("DEMO_PORT", "9")
    assert load_settings(_Demo).demo_port == 9


def test_dotenv_sits_between_yaml_and_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("DEMO_PORT=5\n")
    assert load_settings(_Demo).demo_port == 5
    monkeypatch.setenv("DEMO_PORT", "6")
    assert load_settings(_Demo).demo_port == 6


def test_bad_setting_is_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DEMO_PORT", "not-a-number")
    with pytest.raises(SettingsError, match="DEMO_PORT"):
        load_settings(_Demo)


def test_missing_config_file_is_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(CONFIG_FILE_ENV, str(tmp_path / "absent.yaml"))
    with pytest.raises(SettingsError, match=CONFIG_FILE_ENV):
        load_settings(_Demo)


def test_settings_are_frozen(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings(_Demo)
    with pytest.raises(ValueError, match="frozen"):
        settings.demo_port = 3  # type: ignore[misc]
