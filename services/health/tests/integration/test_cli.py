"""`python -m gateway_health`: bad settings stop it with exit code 2; SIGTERM drains it cleanly."""

from __future__ import annotations

import os
import subprocess
import sys


def _run_with(env_overrides: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {
        k: v for k, v in os.environ.items() if k not in {"NATS_URL", "DATAPLANE_KEY", "GATEWAY_CONFIG_FILE"}
    }
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "-m", "gateway_health"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_missing_setting_is_named_and_exits_2() -> None:
    result = _run_with({"DATAPLANE_KEY": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="})
    assert result.returncode == 2
    assert "NATS_URL" in result.stderr


def test_bad_dataplane_key_is_named_and_exits_2() -> None:
    result = _run_with({"NATS_URL": "nats://127.0.0.1:1", "DATAPLANE_KEY": "not-base64-of-32-bytes"})
    assert result.returncode == 2
    assert "DATAPLANE_KEY" in result.stderr


def test_window_smaller_than_consecutive_rule_is_refused() -> None:
    result = _run_with(
        {
            "NATS_URL": "nats://127.0.0.1:1",
            "DATAPLANE_KEY": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
            "HEALTH_WINDOW": "2",
            "HEALTH_UNHEALTHY_AFTER": "3",
        }
    )
    assert result.returncode == 2
    assert "HEALTH_UNHEALTHY_AFTER" in result.stderr


async def test_sigterm_finishes_in_flight_probes_and_exits_cleanly(
    start_health, kv, snapshots, fake_openai
) -> None:
    await kv.publish(snapshots.snapshot(1, [snapshots.provider("p-good", fake_openai)]))
    service = start_health()
    await kv.wait_health("dep-good", lambda h: len(h.recent) >= 2)
    assert service.proc.stop(timeout=20) == 0
    log = service.proc.log_tail()
    assert "health service stopped" in log
    assert "Traceback" not in log
