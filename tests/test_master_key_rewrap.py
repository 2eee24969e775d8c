"""A master-key rotation on a running gateway: the proxy serves before, during and after it.

The runbook of docs/operations.md, step by step, on a system of its own (it restarts control
with other keys, which the session's shared system must not see): restart control with the new
key plus the old one as MASTER_KEY_PREVIOUS, run `python -m gateway_control rewrap`, restart
control with only the new key, then change the catalogue so control must open the provider's
credentials under the new key to publish a new snapshot. The fake upstream only answers with
its API key, so a chat completion through the new model proves the credential survived.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import openai
import psycopg
import pytest
from gateway_devstack.procs import ManagedProcess
from gateway_devstack.readiness import wait_for_ready
from gateway_devstack.seed import DEMO_PROVIDER, ControlClient, seed_demo
from gateway_devstack.settings import StackSettings
from gateway_devstack.stack import start_stack
from gateway_devstack.system import GatewaySystem, SystemPorts, SystemSecrets


def _restart_control(system: GatewaySystem, **env: str) -> None:
    old = system.processes["control"]
    old.stop()
    control = ManagedProcess(old.name, old.argv, {**old.env, **env}, old.cwd, old.log_path, old.ready_url)
    system.processes["control"] = control
    control.start()
    control.wait_ready(60)
    wait_for_ready(system.readyz_url("control"), 60, name="control")


def _chat(client: openai.OpenAI, model: str, timeout_s: float) -> str:
    """The completion's text once the proxy serves `model` (it appears with the next snapshot)."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            reply = client.chat.completions.create(model=model, messages=[{"role": "user", "content": "hi"}])
        except openai.NotFoundError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
            continue
        return reply.choices[0].message.content or ""


@pytest.mark.e2e
def test_the_proxy_serves_through_a_master_key_rotation(tmp_path: Path) -> None:
    base_env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    with (
        start_stack(StackSettings.from_env(tmp_path / "stack", os.environ, durable=False)) as stack,
        GatewaySystem(
            tmp_path / "system",
            stack.endpoints,
            SystemPorts.free(),
            SystemSecrets.generate(),
            base_env=base_env,
            extra_env={"LOG_LEVEL": "INFO"},
        ) as system,
    ):
        secrets = system.secrets
        admin = ControlClient(system.control_url, secrets.admin_email, secrets.admin_password)
        seed = seed_demo(admin, system.fake_upstream_url, secrets.upstream_api_key, tmp_path / "seed.json")
        admin.close()
        sdk = openai.OpenAI(base_url=system.proxy_url, api_key=seed.api_key, max_retries=0, timeout=30)
        assert _chat(sdk, seed.model, 30)

        new_key = base64.b64encode(os.urandom(32)).decode()
        _restart_control(
            system,
            MASTER_KEY=new_key,
            MASTER_KEY_ID="mk2",
            MASTER_KEY_PREVIOUS=secrets.master_key,
            MASTER_KEY_PREVIOUS_ID="mk1",
        )
        assert _chat(sdk, seed.model, 30)
        rewrap = subprocess.run(
            [sys.executable, "-m", "gateway_control", "rewrap"],
            env=system.processes["control"].env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert rewrap.returncode == 0, rewrap.stderr
        assert json.loads(rewrap.stdout)["rewrapped"]["provider_credentials"] == 1
        with psycopg.connect(stack.endpoints.database_url) as conn:
            key_ids = conn.execute("SELECT DISTINCT credentials_key_id FROM control.providers").fetchall()
        assert key_ids == [("mk2",)]

        # The old key retired: control holds only mk2 and must open the credential to publish.
        _restart_control(system, MASTER_KEY_PREVIOUS="", MASTER_KEY_PREVIOUS_ID="")
        admin = ControlClient(system.control_url, secrets.admin_email, secrets.admin_password)
        [provider] = [p for p in admin.get("/api/v1/providers")["items"] if p["name"] == DEMO_PROVIDER]
        pricing = {"input_micro_usd_per_mtok": 1, "output_micro_usd_per_mtok": 1}
        admin.post("/api/v1/models", {"name": "after-rotation", "pricing": pricing})
        admin.post(
            "/api/v1/routes",
            {
                "model": "after-rotation",
                "deployments": [{"provider_id": provider["id"], "upstream_model": "gpt-4o-mini"}],
            },
        )
        admin.close()
        assert _chat(sdk, "after-rotation", 30)
        assert _chat(sdk, seed.model, 30)
        sdk.close()
