"""deploy/compose.yaml: every service, port, volume, dependency and health check it names exists,
and the environment it gives each gateway service is what that service's settings accept."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from deploycheck.compose import InterpolationError, interpolate, read_env_file, variables
from deploycheck.services import SERVICE_NAMES, required_setting_names, service, setting_names, settings_class

REPO = Path(__file__).resolve().parents[2]
COMPOSE = REPO / "deploy" / "compose.yaml"
ENV_EXAMPLE = REPO / "deploy" / ".env.example"
DATASTORES = ("postgres", "valkey", "nats")
PUBLISHED = {"proxy": 8080, "control": 8081}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    """compose.yaml with deploy/.env.example interpolated, as `docker compose config` would see it."""
    raw = yaml.safe_load(COMPOSE.read_text())
    return interpolate(raw, read_env_file(ENV_EXAMPLE))


def test_the_whole_stack_is_there(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) == {*DATASTORES, *SERVICE_NAMES, "migrate"}


@pytest.mark.parametrize("name", [*SERVICE_NAMES, "migrate"])
def test_builds_use_the_repository_root_and_existing_dockerfiles(compose: dict[str, Any], name: str) -> None:
    build = compose["services"][name]["build"]
    context = (COMPOSE.parent / build["context"]).resolve()
    assert context == REPO, name
    owner = "control" if name == "migrate" else name
    assert build["dockerfile"] == f"services/{owner}/Dockerfile"
    assert (context / build["dockerfile"]).is_file(), f"{name}: {build['dockerfile']} is missing"


def test_named_volumes_are_declared_and_used(compose: dict[str, Any]) -> None:
    declared = set(compose.get("volumes") or {})
    used: set[str] = set()
    for spec in compose["services"].values():
        for volume in spec.get("volumes", []):
            source = volume.split(":", 1)[0] if isinstance(volume, str) else volume["source"]
            if not source.startswith((".", "/")):
                used.add(source)
    assert used == declared
    for store in DATASTORES:
        assert compose["services"][store].get("volumes"), f"{store} keeps its data in a volume"


def test_dependencies_exist_and_their_conditions_can_be_met(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name, spec in services.items():
        for dependency, condition in spec.get("depends_on", {}).items():
            assert dependency in services, f"{name} depends on unknown {dependency}"
            kind = condition["condition"]
            if kind == "service_healthy":
                assert "healthcheck" in services[dependency], f"{dependency} has no health check"
            elif kind == "service_completed_successfully":
                assert services[dependency].get("restart") == "no", dependency
            else:
                assert kind == "service_started", kind


def test_long_running_services_have_health_checks(compose: dict[str, Any]) -> None:
    for name, spec in compose["services"].items():
        if name == "migrate":
            continue
        check = spec.get("healthcheck")
        assert check, name
        assert check["test"][0] in ("CMD", "CMD-SHELL"), name
    for name in SERVICE_NAMES:
        test = " ".join(compose["services"][name]["healthcheck"]["test"])
        assert f"127.0.0.1:{service(name).http_port}/readyz" in test, name


def test_ports_and_listen_addresses(compose: dict[str, Any]) -> None:
    for name in SERVICE_NAMES:
        env = compose["services"][name]["environment"]
        assert env[f"{name.upper()}_HOST"] == "0.0.0.0"
        assert int(env[f"{name.upper()}_PORT"]) == service(name).http_port
        ports = compose["services"][name].get("ports", [])
        if name in PUBLISHED:
            assert ports == [f"127.0.0.1:{PUBLISHED[name]}:{service(name).http_port}"]
        else:
            assert ports == [], f"{name} is internal"


@pytest.mark.parametrize("name", [*SERVICE_NAMES, "migrate"])
def test_environment_matches_the_service_settings(compose: dict[str, Any], name: str) -> None:
    owner = service("control" if name == "migrate" else name)
    env = compose["services"][name]["environment"]
    assert set(env) <= setting_names(owner), sorted(set(env) - setting_names(owner))
    assert required_setting_names(owner) <= set(env)
    # The example values really load as the service's settings (key sizes, lengths, pairs).
    settings_class(owner)(**{key.lower(): value for key, value in env.items()})


def test_every_variable_is_documented_in_the_env_example() -> None:
    documented = set(read_env_file(ENV_EXAMPLE))
    assert variables(COMPOSE.read_text()) <= documented


def test_a_missing_secret_stops_compose() -> None:
    raw = yaml.safe_load(COMPOSE.read_text())
    env = read_env_file(ENV_EXAMPLE)
    del env["MASTER_KEY"]
    with pytest.raises(InterpolationError, match="MASTER_KEY"):
        interpolate(raw, env)


def test_migrate_runs_an_existing_command(compose: dict[str, Any]) -> None:
    entrypoint = compose["services"]["migrate"]["entrypoint"]
    assert entrypoint[:4] == ["python", "-m", "gateway_control", "migrate"]
    result = subprocess.run(
        [sys.executable, *entrypoint[1:4], "--help"], capture_output=True, text=True, check=False, timeout=60
    )
    assert result.returncode == 0, result.stderr


def test_interpolation_rules() -> None:
    env = {"SET": "x", "EMPTY": ""}
    assert interpolate("${SET:-d}/${EMPTY:-d}/${EMPTY-d}/${UNSET-d}/$$SET/$SET", env) == "x/d//d/$SET/x"
    assert interpolate("${SET:+alt}${UNSET:+alt}", env) == "alt"
    with pytest.raises(InterpolationError):
        interpolate("${EMPTY:?needed}", env)
