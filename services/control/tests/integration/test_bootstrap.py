"""The bootstrap file (GitOps): applied at startup and by `python -m gateway_control bootstrap FILE`.

A file declaring a provider (credentials from the environment), two models, a route, a tenant, a
second admin and a key with a pinned secret: after startup the API shows every object, the
snapshot in NATS KV carries the catalogue and Redis holds the key's record under the digest of
the pinned secret. Re-applying the same file changes nothing (no audit row, no config
revision); a changed field is updated and published; an invalid file exits 2 naming the path in
the file and applies nothing; an invalid file at startup keeps control not-ready; two runs at
once apply the file once. The control
under test reads its master key from MASTER_KEY_FILE.
"""

from __future__ import annotations

import asyncio
import copy
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import psycopg
import yaml
from gateway_common.apikeys import generate_key, key_digest
from gateway_proto.v1.keys_pb2 import TenantStatus

from .conftest import DataPlaneProbe, StartControl
from .test_cli import _run as run_cli

OPS_EMAIL = "ops@example.com"
OPS_PASSWORD = "ops-password-from-a-secret"
PROVIDER_SECRET = "sk-upstream-bootstrap-7c1e"

SPEC: dict[str, Any] = {
    "providers": [
        {
            "name": "upstream",
            "type": "openai",
            "base_url": "http://127.0.0.1:9/v1",
            "credentials_env": {"api_key": "UPSTREAM_API_KEY"},
        }
    ],
    "models": [
        {"name": "small", "pricing": {"input_micro_usd_per_mtok": 100, "output_micro_usd_per_mtok": 200}},
        {
            "name": "gpt-boot",
            "pricing": {"input_micro_usd_per_mtok": 1_000, "output_micro_usd_per_mtok": 2_000},
            "context_window": 128_000,
            "capabilities": ["chat", "tools"],
        },
    ],
    "routes": [
        {
            "model": "gpt-boot",
            "strategy": "lowest_cost",
            "fallback_models": ["small"],
            "deployments": [
                {"provider": "upstream", "upstream_model": "gpt-4o", "weight": 3, "rpm_limit": 600},
                {
                    "provider": "upstream",
                    "upstream_model": "gpt-4o-mini",
                    "priority": 1,
                    "cost": {"input_micro_usd_per_mtok": 50, "output_micro_usd_per_mtok": 60},
                },
            ],
        }
    ],
    "tenants": [{"name": "acme", "rpm_limit": 1_000, "allowed_models": ["gpt-boot", "small"]}],
    "admins": [{"email": OPS_EMAIL, "password_env": "OPS_PASSWORD"}],
    "keys": [
        {"name": "ci", "tenant": "acme", "secret_env": "ACME_CI_KEY", "allowed_models": ["gpt-boot"]},
        {"name": "unpinned", "tenant": "acme"},
    ],
}


def _write(path: Path, spec: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(spec))
    return path


def _counts(database_url: str) -> tuple[int, int]:
    """(audit rows, config revisions a bootstrap run published) straight from Postgres.

    Revisions are counted by their reason, so control's own startup snapshot cannot race the count.
    """
    with psycopg.connect(database_url) as conn:
        audit = conn.execute("SELECT count(*) FROM control.audit_log").fetchone()
        revisions = conn.execute(
            "SELECT count(*) FROM control.config_revisions WHERE reason = 'bootstrap'"
        ).fetchone()
    assert audit is not None
    assert revisions is not None
    return int(audit[0]), int(revisions[0])


def _bootstrap_env(secret: str) -> dict[str, str]:
    return {"UPSTREAM_API_KEY": PROVIDER_SECRET, "OPS_PASSWORD": OPS_PASSWORD, "ACME_CI_KEY": secret}


async def _login(client: httpx.AsyncClient, email: str, password: str) -> dict[str, str]:
    response = await client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def test_bootstrap_at_startup_then_idempotent_cli_and_updates(
    start_control: StartControl, control_env: dict[str, str], probe: DataPlaneProbe, tmp_path: Path
) -> None:
    secret = generate_key()
    file = _write(tmp_path / "bootstrap.yaml", SPEC)
    # The master key comes from a file here (MASTER_KEY_FILE), as from a mounted Secret.
    master_key_file = tmp_path / "master-key"
    master_key_file.write_text(control_env["MASTER_KEY"] + "\n")
    control = start_control(
        BOOTSTRAP_FILE=str(file),
        MASTER_KEY="",
        MASTER_KEY_FILE=str(master_key_file),
        **_bootstrap_env(secret),
    )
    digest = key_digest(control.pepper, secret)

    async with control.client() as client:
        headers = await _login(client, OPS_EMAIL, OPS_PASSWORD)  # the declared admin signs in
        tenants = (await client.get("/api/v1/tenants", headers=headers)).json()["items"]
        acme = next(t for t in tenants if t["name"] == "acme")
        assert acme["allowed_models"] == ["gpt-boot", "small"]
        assert acme["status"] == "active"
        models = {m["name"]: m for m in (await client.get("/api/v1/models", headers=headers)).json()["items"]}
        assert models["gpt-boot"]["context_window"] == 128_000
        assert models["gpt-boot"]["capabilities"] == ["chat", "tools"]
        providers = (await client.get("/api/v1/providers", headers=headers)).json()["items"]
        assert [(p["name"], p["has_credentials"]) for p in providers] == [("upstream", True)]
        (route,) = (await client.get("/api/v1/routes", headers=headers)).json()["items"]
        assert (route["model"], route["strategy"], route["fallback_models"]) == (
            "gpt-boot",
            "lowest_cost",
            ["small"],
        )
        weights = sorted((d["upstream_model"], d["weight"], d["priority"]) for d in route["deployments"])
        assert weights == [("gpt-4o", 3, 0), ("gpt-4o-mini", 1, 1)]
        keys = (await client.get(f"/api/v1/tenants/{acme['id']}/keys", headers=headers)).json()["items"]
        assert [k["name"] for k in keys] == ["ci"]  # the unpinned key is not created
        assert keys[0]["last4"] == secret[-4:]
        audit = (await client.get("/api/v1/audit?actor_email=system:bootstrap", headers=headers)).json()
        assert {"provider.create", "route.create", "tenant.create", "api_key.create"} <= {
            e["action"] for e in audit["items"]
        }

    snapshot, raw = await probe.wait_for_snapshot(lambda s: any(m.name == "gpt-boot" for m in s.models))
    assert len(snapshot.deployments) == 2
    assert len(snapshot.routes) == 1
    assert [p.name for p in snapshot.providers] == ["upstream"]
    assert snapshot.providers[0].HasField("credentials")  # opened with the key from the file
    assert PROVIDER_SECRET.encode() not in raw  # sealed for the data plane, never in clear
    record, _ttl = await probe.key_record(digest)
    assert record is not None
    assert record.tenant_id == acme["id"]
    assert list(record.allowed_models) == ["gpt-boot"]
    assert record.tenant_limits.rpm == 1_000

    # Re-applying the same file: nothing changes, no audit row, no new revision.
    before = _counts(control.env["DATABASE_URL"])
    env = {**control.env, **_bootstrap_env(secret)}
    again = run_cli(env, "bootstrap", str(file), cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout.splitlines()[-1]) == {
        "changes": [],
        "skipped": ["keys[1]: no secret_env, so the key is not created"],
        "revision": None,
    }
    assert _counts(control.env["DATABASE_URL"]) == before

    # One changed field per kind: updated, audited and published.
    changed = copy.deepcopy(SPEC)
    changed["routes"][0]["deployments"][0]["weight"] = 7
    changed["tenants"][0]["status"] = "suspended"
    third = run_cli(env, "bootstrap", str(_write(tmp_path / "changed.yaml", changed)), cwd=tmp_path)
    assert third.returncode == 0, third.stderr
    result = json.loads(third.stdout.splitlines()[-1])
    assert result["changes"] == ["deployment.update gpt-boot -> upstream/gpt-4o", "tenant.update acme"]
    assert _counts(control.env["DATABASE_URL"]) == (before[0] + 2, before[1] + 1)
    snapshot, _raw = await probe.wait_for_snapshot(lambda s: s.revision == result["revision"])
    assert sorted(d.weight for d in snapshot.deployments) == [1, 7]
    record, _ttl = await probe.key_record(digest)
    assert record is not None
    assert record.tenant_status == TenantStatus.TENANT_STATUS_SUSPENDED


async def test_invalid_file_exits_2_naming_the_path_and_applies_nothing(
    start_control: StartControl, probe: DataPlaneProbe, tmp_path: Path
) -> None:
    control = start_control()
    await probe.wait_for_snapshot(lambda s: s.revision > 0)  # the startup snapshot is out
    before = _counts(control.env["DATABASE_URL"])
    env = {**control.env, **_bootstrap_env(generate_key())}
    cases: list[tuple[dict[str, Any], str, dict[str, str]]] = []
    bad_provider = copy.deepcopy(SPEC)
    bad_provider["routes"][0]["deployments"][1]["provider"] = "x"
    cases.append((bad_provider, 'routes[0].deployments[1].provider: unknown provider "x"', env))
    bad_weight = copy.deepcopy(SPEC)
    bad_weight["routes"][0]["deployments"][0]["weight"] = -1
    cases.append((bad_weight, "routes[0].deployments[0].weight: Expected `int` >= 0", env))
    unknown_field = copy.deepcopy(SPEC)
    unknown_field["tenants"][0]["password"] = "in clear"
    cases.append((unknown_field, "tenants[0]: Object contains unknown field `password`", env))
    no_secret = {k: v for k, v in env.items() if k != "ACME_CI_KEY"}
    cases.append((SPEC, "keys[0].secret_env: environment variable ACME_CI_KEY is not set", no_secret))
    bad_key = {**env, "ACME_CI_KEY": "sk-gw-not-a-real-key"}
    cases.append((SPEC, "keys[0].secret_env: ACME_CI_KEY does not hold a well-formed gateway key", bad_key))
    for index, (spec, message, case_env) in enumerate(cases):
        file = _write(tmp_path / f"bad-{index}.yaml", spec)
        result = run_cli(case_env, "bootstrap", str(file), cwd=tmp_path)
        assert result.returncode == 2, (message, result.stderr)
        assert message in result.stderr
        # Providers and models come before routes and keys in the file: none of them was kept.
        assert _counts(control.env["DATABASE_URL"]) == before
    with psycopg.connect(control.env["DATABASE_URL"]) as conn:
        assert conn.execute("SELECT count(*) FROM control.models").fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM control.providers").fetchone() == (0,)


async def test_invalid_file_at_startup_keeps_control_not_ready(
    start_control: StartControl, tmp_path: Path
) -> None:
    bad = copy.deepcopy(SPEC)
    bad["tenants"][0]["allowed_models"] = ["nope"]
    file = _write(tmp_path / "bootstrap.yaml", bad)
    control = start_control("healthz", BOOTSTRAP_FILE=str(file), **_bootstrap_env(generate_key()))
    async with control.client() as client:
        ready = await client.get("/readyz")
    assert ready.status_code == 503
    deadline = time.monotonic() + 30
    while "tenants[0].allowed_models[0]: unknown model" not in control.process.log_path.read_text():
        assert time.monotonic() < deadline, control.process.log_tail()
        await asyncio.sleep(0.2)
    with psycopg.connect(control.env["DATABASE_URL"]) as conn:
        assert conn.execute("SELECT count(*) FROM control.models").fetchone() == (0,)


def test_concurrent_runs_apply_the_file_once(control_env: dict[str, str], tmp_path: Path) -> None:
    # Two replicas starting together: the advisory lock serialises them, the second finds nothing to do.
    file = _write(tmp_path / "bootstrap.yaml", SPEC)
    assert run_cli(control_env, "migrate", cwd=tmp_path).returncode == 0
    env = {**control_env, **_bootstrap_env(generate_key())}
    argv = [sys.executable, "-m", "gateway_control", "bootstrap", str(file)]
    runs = [
        subprocess.Popen(
            argv, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=120) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], [err for _out, err in outputs]
    changes = sorted(len(json.loads(out.splitlines()[-1])["changes"]) for out, _err in outputs)
    assert changes[0] == 0
    assert changes[1] > 0
    with psycopg.connect(control_env["DATABASE_URL"]) as conn:
        assert conn.execute("SELECT count(*) FROM control.tenants WHERE name = 'acme'").fetchone() == (1,)
        row = conn.execute(
            "SELECT count(*) FROM control.audit_log WHERE actor_email = 'system:bootstrap'"
        ).fetchone()
    assert row == (changes[1],)
