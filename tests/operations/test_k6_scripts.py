"""The k6 load scripts (tests/load) run against a real gateway and pass their own thresholds.

Short runs on a shared machine: the gateway-overhead thresholds are loosened through the
environment; what is checked is that each script works end to end — its checks hold, the
rate-limit script sees about half its requests refused, the budget script runs the budget out.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import openai
import pytest
from gateway_devstack.seed import ControlClient, DemoSeed
from gateway_devstack.system import GatewaySystem

from .conftest import wait_until_served

pytestmark = pytest.mark.e2e

K6 = Path(sys.executable).with_name("k6")
SCRIPTS = Path(__file__).resolve().parents[2] / "tests" / "load"
LOOSE = {"OVERHEAD_P50_MS": "500", "OVERHEAD_P99_MS": "2000", "TTFB_P99_MS": "5000"}


def run_k6(script: str, system: GatewaySystem, api_key: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`k6 run` one script; its exit status is non-zero when a threshold fails."""
    return subprocess.run(
        [str(K6), "run", "--quiet", "--no-usage-report", str(SCRIPTS / script)],
        env={
            "PATH": os.environ.get("PATH", ""),
            "HOME": os.environ.get("HOME", "/tmp"),
            "BASE_URL": system.proxy_url,
            "API_KEY": api_key,
            "MODEL": "demo",
            **LOOSE,
            **env,
        },
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def _new_key(admin: ControlClient, **limits: int) -> tuple[str, str]:
    tenant = admin.post("/api/v1/tenants", {"name": f"load-{uuid.uuid4().hex[:8]}"})
    key = admin.post(f"/api/v1/tenants/{tenant['id']}/keys", {"name": "k6", **limits})
    return str(tenant["id"]), str(key["key"])


@pytest.mark.parametrize("script", ["chat.js", "chat_stream.js"])
def test_chat_scripts_pass_their_thresholds(
    script: str, traced_system: GatewaySystem, demo: DemoSeed, client: openai.OpenAI
) -> None:
    result = run_k6(script, traced_system, demo.api_key, VUS="2", DURATION="3s")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def test_a_script_fails_when_its_threshold_fails(traced_system: GatewaySystem, demo: DemoSeed) -> None:
    """The thresholds bite: a gateway overhead under 0 ms is impossible."""
    result = run_k6("chat.js", traced_system, demo.api_key, VUS="1", DURATION="2s", OVERHEAD_P99_MS="0")
    assert result.returncode == 99, result.stdout[-2000:]  # k6's "thresholds have failed"


def test_the_rate_limit_script_sees_the_surplus_refused(
    traced_system: GatewaySystem, traced_admin: ControlClient, demo: DemoSeed, client: openai.OpenAI
) -> None:
    _, api_key = _new_key(traced_admin, rpm_limit=10)
    with openai.OpenAI(base_url=traced_system.proxy_url, api_key=api_key, max_retries=0) as sdk:
        wait_until_served(sdk, "demo")
    result = run_k6("rate_limit.js", traced_system, api_key, RPM_LIMIT="10", DURATION="10s")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def test_the_budget_script_runs_the_budget_out(
    traced_system: GatewaySystem, traced_admin: ControlClient, demo: DemoSeed, client: openai.OpenAI
) -> None:
    tenant_id, api_key = _new_key(traced_admin)
    traced_admin.post(
        f"/api/v1/tenants/{tenant_id}/budgets", {"limit_micro_usd": 5000, "period": "daily", "hard": True}
    )
    with openai.OpenAI(base_url=traced_system.proxy_url, api_key=api_key, max_retries=0) as sdk:
        wait_until_served(sdk, "demo")
    result = run_k6("budget.js", traced_system, api_key, VUS="5", ITERATIONS="40")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
