"""Pytest fixtures for real Postgres, Redis (Valkey) and NATS.

Loaded by the root pyproject with `-p gateway_devstack.pytest_plugin`.

- `stack` (session): the embedded stack, started once under a throwaway root in /tmp
  (logs copied to the session's tmp dir at the end). DATABASE_URL,
  REDIS_URL and NATS_URL in the environment replace the matching server (and the fixtures
  below then flush *that* server).
- `fresh_database_url`: a new, empty database on the session server; dropped afterwards.
- `redis_url`: the session Redis after FLUSHALL.
- `nats_url`: the session NATS after deleting every JetStream stream and KV bucket.

Nothing outlives the session: the fixture stops the stack on teardown (failures and Ctrl-C
included), an atexit hook covers an interpreter exit, and the kernel kills the servers
if pytest itself is killed.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from gateway_devstack.base import Stack
from gateway_devstack.resets import flush_redis, fresh_database, purge_jetstream
from gateway_devstack.roots import temporary_root
from gateway_devstack.settings import StackSettings
from gateway_devstack.stack import start_stack


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The session's Postgres + Valkey + NATS JetStream; `.endpoints` has their URLs."""
    # The root lives outside pytest's base temp (see gateway_devstack.roots); its logs and
    # stack.json are copied into the session's tmp dir when the session ends.
    with temporary_root(keep_logs_in=tmp_path_factory.mktemp("devstack")) as root:
        # Tests throw the data away, so Postgres may skip fsync.
        settings = StackSettings.from_env(root, os.environ, durable=False)
        with start_stack(settings) as running:
            yield running


@pytest.fixture
def fresh_database_url(stack: Stack) -> Iterator[str]:
    """URL of a new, empty database on the session Postgres, dropped after the test."""
    with fresh_database(stack.endpoints.database_url) as url:
        yield url


@pytest.fixture
def redis_url(stack: Stack) -> str:
    """URL of the session Redis (Valkey), emptied with FLUSHALL before the test."""
    flush_redis(stack.endpoints.redis_url)
    return stack.endpoints.redis_url


@pytest.fixture
def nats_url(stack: Stack) -> str:
    """URL of the session NATS, with every JetStream stream and KV bucket deleted before the test."""
    purge_jetstream(stack.endpoints.nats_url)
    return stack.endpoints.nats_url
