"""`python -m gateway_control rewrap`: a master-key rotation of every secret at rest.

Providers sealed under the old key (mk1) and one already under the new key (mk2, created by a
control running mid-rotation) are re-sealed by the command: afterwards no old ciphertext, nonce
or wrapped key is left in the table, the old key alone opens nothing, the new key alone opens
everything, a second run changes nothing, and a control holding only the new key publishes every
credential to the data plane. A record under an unknown key stops the run with nothing changed.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import uuid
from pathlib import Path
from typing import Any

import psycopg
from gateway_common.sealing import DataPlaneKeys
from gateway_control.security.credentials import open_credentials
from gateway_control.security.envelope import EnvelopeCipher, EnvelopeError

from .conftest import ControlInstance, DataPlaneProbe, StartControl
from .test_cli import _run as run_cli

_COLUMNS = "id, name, credentials_ciphertext, credentials_nonce, credentials_wrapped_key, credentials_key_id"


def _rows(database_url: str) -> dict[str, Any]:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(f"SELECT {_COLUMNS} FROM control.providers ORDER BY name").fetchall()
    return {row[1]: row for row in rows}


def _run_rewrap(env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return run_cli(env, "rewrap", cwd=cwd)


async def _create_providers(control: ControlInstance, secrets: dict[str, str]) -> None:
    async with control.client(await control.login()) as client:
        for name, secret in secrets.items():
            response = await client.post(
                "/api/v1/providers",
                json={"name": name, "type": "openai", "credentials": {"api_key": secret}},
            )
            assert response.status_code == 201, response.text


class _Row:
    """A provider row in the shape open_credentials reads."""

    def __init__(self, row: Any) -> None:
        self.id: uuid.UUID = row[0]
        self.credentials_ciphertext: bytes | None = row[2]
        self.credentials_nonce: bytes | None = row[3]
        self.credentials_wrapped_key: bytes | None = row[4]
        self.credentials_key_id: str | None = row[5]


async def test_rewrap_moves_every_secret_to_the_new_master_key(
    start_control: StartControl, probe: DataPlaneProbe, tmp_path: Path
) -> None:
    old = start_control()
    old_key = old.env["MASTER_KEY"]
    secrets = {f"p{i}": f"sk-canary-{i}-{uuid.uuid4().hex}" for i in range(4)}
    await _create_providers(old, {name: secrets[name] for name in ("p0", "p1", "p2")})
    new_key = base64.b64encode(os.urandom(32)).decode()
    rotating = {
        "MASTER_KEY": new_key,
        "MASTER_KEY_ID": "mk2",
        "MASTER_KEY_PREVIOUS": old_key,
        "MASTER_KEY_PREVIOUS_ID": old.env["MASTER_KEY_ID"],
    }
    # Mid-rotation: a control with both keys opens old records and seals new ones under mk2.
    mid = start_control(**rotating)
    await _create_providers(mid, {"p3": secrets["p3"]})
    before = _rows(old.env["DATABASE_URL"])
    assert {name: row[5] for name, row in before.items()} == {
        "p0": "mk-test",
        "p1": "mk-test",
        "p2": "mk-test",
        "p3": "mk2",
    }

    env = {**mid.env, **rotating}
    first = _run_rewrap(env, tmp_path)
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout) == {"master_key_id": "mk2", "rewrapped": {"provider_credentials": 3}}

    after = _rows(old.env["DATABASE_URL"])
    assert {row[5] for row in after.values()} == {"mk2"}
    for name in ("p0", "p1", "p2"):
        for column in (2, 3, 4):  # ciphertext, nonce and wrapped key are all new
            assert after[name][column] != before[name][column]
    old_bytes = {bytes(row[c]) for row in before.values() for c in (2, 3, 4)}
    new_bytes = {bytes(row[c]) for row in after.values() for c in (2, 3, 4)}
    assert old_bytes & new_bytes == {bytes(before["p3"][c]) for c in (2, 3, 4)}  # p3 was already current
    only_old = EnvelopeCipher("mk-test", {"mk-test": base64.b64decode(old_key)})
    only_new = EnvelopeCipher("mk2", {"mk2": base64.b64decode(new_key)})
    for name, row in after.items():
        try:
            open_credentials(only_old, _Row(row))
        except EnvelopeError:
            pass
        else:
            raise AssertionError(f"the old master key still opens {name}")
        assert open_credentials(only_new, _Row(row)) == {"api_key": secrets[name]}

    again = _run_rewrap(env, tmp_path)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["rewrapped"] == {"provider_credentials": 0}
    assert _rows(old.env["DATABASE_URL"]) == after

    # The old key retired: a control with only mk2 publishes every provider's credentials.
    old.process.stop()
    mid.process.stop()
    start_control(MASTER_KEY=new_key, MASTER_KEY_ID="mk2")
    snapshot, raw = await probe.wait_for_snapshot(lambda s: len(s.providers) == 4, timeout=30)
    dataplane = DataPlaneKeys.from_base64("dp-test", env["DATAPLANE_KEY"])
    published = {p.name: dataplane.open(p.credentials, aad=p.id) for p in snapshot.providers}
    assert published == {name: {"api_key": secret} for name, secret in secrets.items()}
    assert not any(secret.encode() in raw for secret in secrets.values())


async def test_an_unopenable_record_stops_the_rewrap_with_nothing_changed(
    start_control: StartControl, tmp_path: Path
) -> None:
    old = start_control()
    await _create_providers(old, {name: f"sk-canary-{name}" for name in ("p0", "p1", "p2")})
    with psycopg.connect(old.env["DATABASE_URL"], autocommit=True) as conn:
        conn.execute("UPDATE control.providers SET credentials_key_id = 'mk0' WHERE name = 'p1'")
    before = _rows(old.env["DATABASE_URL"])
    env = {
        **old.env,
        "MASTER_KEY": base64.b64encode(os.urandom(32)).decode(),
        "MASTER_KEY_ID": "mk2",
        "MASTER_KEY_PREVIOUS": old.env["MASTER_KEY"],
        "MASTER_KEY_PREVIOUS_ID": old.env["MASTER_KEY_ID"],
    }
    result = _run_rewrap(env, tmp_path)
    assert result.returncode == 1
    assert "provider p1" in result.stderr
    assert "'mk0'" in result.stderr
    assert "nothing was changed" in result.stderr
    assert _rows(old.env["DATABASE_URL"]) == before


def test_previous_master_key_settings_are_checked(control_env: dict[str, str], tmp_path: Path) -> None:
    half = _run_rewrap({**control_env, "MASTER_KEY_PREVIOUS": control_env["MASTER_KEY"]}, tmp_path)
    assert half.returncode == 2
    assert "MASTER_KEY_PREVIOUS_ID" in half.stderr
    same = _run_rewrap(
        {
            **control_env,
            "MASTER_KEY_PREVIOUS": control_env["MASTER_KEY"],
            "MASTER_KEY_PREVIOUS_ID": control_env["MASTER_KEY_ID"],
        },
        tmp_path,
    )
    assert same.returncode == 2
    assert "must differ" in same.stderr
