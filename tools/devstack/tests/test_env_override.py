"""URLs in the environment replace the embedded servers; nothing is started for them."""

from __future__ import annotations

import os
from pathlib import Path

import psycopg
import pytest
from gateway_devstack import (
    DevStack,
    DevStackError,
    ExternalServerError,
    Stack,
    StackMode,
    StackSettings,
    build_embedded_stack,
    start_stack,
)
from gateway_devstack.base import ExternalServer
from gateway_devstack.nats_server import NatsServer
from gateway_devstack.postgres import PostgresServer
from gateway_devstack.procs import child_pids
from gateway_devstack.state import read_state


def test_all_urls_from_the_environment_start_nothing(stack: Stack, tmp_path: Path) -> None:
    given = stack.endpoints
    env = {"DATABASE_URL": given.database_url, "REDIS_URL": given.redis_url, "NATS_URL": given.nats_url}
    children_before = set(child_pids(os.getpid()))

    with start_stack(StackSettings.from_env(tmp_path, env)) as external:
        assert external.endpoints == given
        assert set(child_pids(os.getpid())) == children_before
        with psycopg.connect(external.endpoints.database_url) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
        with pytest.raises(ExternalServerError, match="REDIS_URL"):
            external.stop_redis()
        servers = read_state(tmp_path)["servers"]
        assert isinstance(servers, dict)
        assert all(entry["external"] is True for entry in servers.values())

    assert not (tmp_path / "postgres").exists()
    assert not (tmp_path / "logs").exists()


def test_one_url_replaces_only_its_server(tmp_path: Path) -> None:
    settings = StackSettings.from_env(tmp_path, {"REDIS_URL": "redis://cache.example:6379/2"})
    stack = build_embedded_stack(settings)
    assert isinstance(stack.server("postgres"), PostgresServer)
    assert isinstance(stack.server("nats"), NatsServer)
    redis_server = stack.server("redis")
    assert isinstance(redis_server, ExternalServer)
    assert stack.endpoints.redis_url == "redis://cache.example:6379/2"


def test_empty_values_count_as_unset(tmp_path: Path) -> None:
    settings = StackSettings.from_env(tmp_path, {"DATABASE_URL": "", "GATEWAY_STACK": ""})
    assert settings.database_url is None
    assert settings.mode is StackMode.EMBEDDED


def test_containers_mode_is_read_from_gateway_stack(tmp_path: Path) -> None:
    settings = StackSettings.from_env(tmp_path, {"GATEWAY_STACK": "containers"})
    assert settings.mode is StackMode.CONTAINERS


def test_an_unknown_mode_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DevStackError, match="GATEWAY_STACK='docker'"):
        StackSettings.from_env(tmp_path, {"GATEWAY_STACK": "docker"})


def test_stopping_a_server_of_a_stopped_stack_is_refused(tmp_path: Path) -> None:
    stack = build_embedded_stack(StackSettings(root=tmp_path))
    assert isinstance(stack, DevStack)
    with pytest.raises(DevStackError, match="not running"):
        stack.stop_redis()
