"""HealthSettings: defaults from DESIGN.md, environment overrides, and errors that name the setting."""

from __future__ import annotations

from datetime import timedelta

import pytest
from gateway_common.settings import SettingsError, load_settings
from gateway_health.settings import HealthSettings

KEY = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.delenv("GATEWAY_CONFIG_FILE", raising=False)
    for name in (
        "NATS_URL",
        "DATAPLANE_KEY",
        "HEALTH_WINDOW",
        "HEALTH_PROBE_INTERVAL_S",
        "HEALTH_COOLDOWN_S",
        "HEALTH_HISTORY",
        "HEALTH_LEASE_TTL_S",
        "HEALTH_PROBE_JITTER",
    ):
        monkeypatch.delenv(name, raising=False)


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NATS_URL", "nats://127.0.0.1:4222")
    monkeypatch.setenv("DATAPLANE_KEY", KEY)
    settings = load_settings(HealthSettings)
    assert (settings.health_host, settings.health_port, settings.health_grpc_port) == (
        "127.0.0.1",
        8083,
        50052,
    )
    assert settings.health_probe_interval_s == 60
    assert settings.health_window == 5
    assert settings.cooldown == timedelta(minutes=5)
    assert settings.dataplane_key_id == "dp1"
    assert KEY not in repr(settings)
    assert settings.health_history == 50
    assert settings.lease_ttl_s == 180  # 3 probe intervals


def test_history_and_lease_ttl_are_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NATS_URL", "nats://127.0.0.1:4222")
    monkeypatch.setenv("DATAPLANE_KEY", KEY)
    monkeypatch.setenv("HEALTH_HISTORY", "3")
    with pytest.raises(SettingsError, match="HEALTH_HISTORY"):
        load_settings(HealthSettings)
    monkeypatch.setenv("HEALTH_HISTORY", "20")
    monkeypatch.setenv("HEALTH_PROBE_INTERVAL_S", "10")
    monkeypatch.setenv("HEALTH_LEASE_TTL_S", "11")  # the longest wait is 10 x 1.1 = 11 s
    with pytest.raises(SettingsError, match="HEALTH_LEASE_TTL_S"):
        load_settings(HealthSettings)
    monkeypatch.setenv("HEALTH_LEASE_TTL_S", "25")
    settings = load_settings(HealthSettings)
    assert (settings.health_history, settings.lease_ttl_s) == (20, 25)


def test_environment_and_yaml(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    config = tmp_path / "gateway.yaml"
    config.write_text("nats_url: nats://yaml:4222\nhealth:\n  health_window: 7\n  health_cooldown_s: 10\n")
    monkeypatch.setenv("GATEWAY_CONFIG_FILE", str(config))
    monkeypatch.setenv("DATAPLANE_KEY", KEY)
    monkeypatch.setenv("HEALTH_COOLDOWN_S", "20")
    settings = load_settings(HealthSettings)
    assert settings.nats_url == "nats://yaml:4222"
    assert settings.health_window == 7
    assert settings.health_cooldown_s == 20  # the environment wins over YAML


def test_bad_values_name_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NATS_URL", "nats://127.0.0.1:4222")
    monkeypatch.setenv("DATAPLANE_KEY", "short")
    monkeypatch.setenv("HEALTH_PROBE_INTERVAL_S", "0")
    with pytest.raises(SettingsError) as error:
        load_settings(HealthSettings)
    assert "DATAPLANE_KEY" in str(error.value)
    assert "HEALTH_PROBE_INTERVAL_S" in str(error.value)
