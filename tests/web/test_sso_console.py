"""Single sign-on in a real browser: the console's "Sign in with …" button, a real OpenID Connect
provider (tools/oidc-idp) and control's own session afterwards.

A second control process (same database, Redis and NATS as the shared system's) is configured
with the provider; Chromium, driven by drive_sso.mjs, clicks the button on the sign-in page,
passes the provider's login and consent forms and must come back signed in to the user portal,
and stay signed in across a reload. An account whose email the provider has not verified must
come back to the sign-in page with the reason and no session.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from gateway_devstack.oidc_idp import install_oidc_idp, oidc_idp_process
from gateway_devstack.procs import ManagedProcess, free_port
from gateway_devstack.readiness import wait_for_ready
from gateway_devstack.seed import ControlClient
from gateway_devstack.system import GatewaySystem

DRIVER = Path(__file__).with_name("drive_sso.mjs")
CLIENT = {"client_id": "gateway-console", "client_secret": "console-client-secret-0123456789"}
ACCOUNTS = {
    "carol": {"email": "carol.sso@example.com", "email_verified": True, "name": "Carol"},
    "mallory": {"email": "mallory.sso@example.com", "email_verified": False, "name": "Mallory"},
}


@pytest.mark.e2e
def test_sign_in_with_sso_in_the_browser(console: GatewaySystem, chromium: Path, tmp_path: Path) -> None:
    node = shutil.which("node")
    assert node, "node (20+) is required"
    install_oidc_idp()
    port = free_port()
    control_url = f"http://127.0.0.1:{port}"
    callback = f"{control_url}/api/v1/auth/sso/corp/callback"
    idp = oidc_idp_process(tmp_path, [{**CLIENT, "redirect_uris": [callback]}], accounts=ACCOUNTS)
    provider = {"name": "corp", "display_name": "Corp SSO", "issuer": idp.issuer, **CLIENT}
    base = console.service_process("control")
    control = ManagedProcess(
        "control-sso",
        base.argv,
        {
            **base.env,
            "CONTROL_PORT": str(port),
            "INSTANCE_ID": "control-sso",
            "PUBLIC_URL": control_url,
            "OIDC_PROVIDERS": json.dumps([provider]),
        },
        cwd=base.cwd,
        log_path=tmp_path / "control-sso.log",
        ready_url=f"{control_url}/healthz",
    )
    try:
        idp.process.start()
        control.start()
        idp.process.wait_ready(60)
        control.wait_ready(60)
        wait_for_ready(f"{control_url}/readyz", 60, name="control-sso")
        result = subprocess.run(
            [node, str(DRIVER), control_url, "Corp SSO", "mallory", "carol"],
            capture_output=True,
            text=True,
            timeout=240,
            check=False,
        )
        lines = result.stdout.strip().splitlines()
        assert lines, f"the driver printed nothing:\n{result.stderr[-4000:]}"
        event = json.loads(lines[-1])
        assert event["event"] == "done", f"{event}\n{result.stderr[-4000:]}"
        assert event["landed"].endswith("#/me/keys")
    finally:
        control.stop()
        idp.process.stop()
    admin = ControlClient(console.control_url, console.secrets.admin_email, console.secrets.admin_password)
    users = {u["email"]: u for u in admin.get("/api/v1/users", limit=500)["items"]}
    audit = admin.get("/api/v1/audit", action="auth.sso_failed", limit=50)["items"]
    admin.close()
    assert users["carol.sso@example.com"]["sso"] is True
    assert users["carol.sso@example.com"]["has_password"] is False
    assert "mallory.sso@example.com" not in users
    assert any(entry["after"] == {"provider": "corp", "reason": "email_not_verified"} for entry in audit)
