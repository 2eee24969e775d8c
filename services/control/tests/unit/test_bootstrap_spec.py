"""The bootstrap file's schema: the API's own bounds, errors naming the path, inline or from a file."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
import yaml
from gateway_common.settings import SettingsError, load_settings
from gateway_control.settings import ControlSettings

with warnings.catch_warnings():
    # The spec reuses the API's field types; domain/_types.py still uses Parameter(query=...),
    # which litestar 2.25 deprecates at import time (the service itself is unaffected).
    warnings.simplefilter("ignore", DeprecationWarning)
    from gateway_control.bootstrap.run import configured_spec
    from gateway_control.bootstrap.spec import BootstrapError, load_spec_file, parse_spec, resolve_env

from .test_settings import _clean_env, _good  # noqa: F401  (_clean_env: an autouse fixture)

ROUTE = {"model": "m", "deployments": [{"provider": "p", "upstream_model": "u"}]}


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (
            {
                "routes": [
                    ROUTE,
                    {**ROUTE, "model": "n", "deployments": [{"provider": "p", "upstream_model": ""}]},
                ]
            },
            "routes[1].deployments[0].upstream_model: Expected `str` of length >= 1",
        ),
        ({"routes": [{**ROUTE, "strategy": "random"}]}, "routes[0].strategy: Invalid enum value 'random'"),
        ({"tenants": [{"name": "t", "status": "gone"}]}, "tenants[0].status:"),
        ({"admins": [{"email": "a@b.c", "password": "clear"}]}, "admins[0]: Object contains unknown field"),
        (
            {"providers": [{"name": "p", "type": "openai", "credentials": {}}]},
            "providers[0]: Object contains",
        ),
        ({"keys": [{"name": "k", "tenant": "t", "secret_env": "not a name"}]}, "keys[0].secret_env:"),
        ({"models": [{"name": "m"}]}, "models[0]: Object missing required field `pricing`"),
        ({"tenant": []}, "(top level): Object contains unknown field `tenant`"),
        ({"tenants": [{"name": "t"}, {"name": "t"}]}, "tenants[1].name: duplicate of tenants[0]"),
        (
            {"admins": [{"email": "A@b.c", "password_env": "X"}, {"email": "a@b.c", "password_env": "Y"}]},
            "admins[1]",
        ),
        ([1], "(top level): Expected `object`, got `array`"),
    ],
)
def test_invalid_specs_name_the_path(data: object, problem: str) -> None:
    with pytest.raises(BootstrapError) as caught:
        parse_spec(data)
    assert problem in str(caught.value)


def test_a_file_may_wrap_the_lists_in_a_bootstrap_key(tmp_path: Path) -> None:
    path = tmp_path / "b.yaml"
    path.write_text(yaml.safe_dump({"bootstrap": {"tenants": [{"name": "acme"}]}}))
    assert [t.name for t in load_spec_file(path).tenants] == ["acme"]
    path.write_text("tenants: [unclosed")
    with pytest.raises(BootstrapError, match="not valid YAML"):
        load_spec_file(path)
    with pytest.raises(BootstrapError, match="cannot be read"):
        load_spec_file(tmp_path / "missing.yaml")


def test_env_references_must_be_set() -> None:
    assert resolve_env({"A": "x"}, "A", "keys[0].secret_env") == "x"
    with pytest.raises(BootstrapError, match=r"keys\[0\].secret_env: environment variable B is not set"):
        resolve_env({"B": ""}, "B", "keys[0].secret_env")


def test_inline_section_of_the_yaml_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "gateway.yaml"
    config.write_text(
        yaml.safe_dump({"control": {"bootstrap": {"tenants": [{"name": "acme", "rpm_limit": 5}]}}})
    )
    monkeypatch.setenv("GATEWAY_CONFIG_FILE", str(config))
    spec = configured_spec(load_settings(ControlSettings, **_good()))
    assert spec is not None
    assert [(t.name, t.rpm_limit) for t in spec.tenants] == [("acme", 5)]
    with pytest.raises(SettingsError, match="BOOTSTRAP and BOOTSTRAP_FILE cannot both be set"):
        load_settings(ControlSettings, **_good(), bootstrap_file=str(config))
    monkeypatch.delenv("GATEWAY_CONFIG_FILE")
    assert configured_spec(load_settings(ControlSettings, **_good())) is None
