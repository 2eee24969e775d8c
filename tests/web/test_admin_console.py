"""The admin console and the user portal in a real browser against the whole gateway.

Debian's Chromium, driven by playwright-core (drive_console.mjs), signs in, adds a provider, a
priced model and a route, creates a tenant and an API key, and copies the key from its one-time
reveal. The test then calls the proxy with that key through the official openai SDK, waits until
accounting has the request, and the browser must show it on the dashboard and exactly that
request in the usage explorer and its CSV download. The browser then creates a user, makes them
a member, adds a budget and an alert channel and sends it a test alert (accounting's real sender
answers; the page says why it was not delivered), edits, rotates and revokes the key, edits the
model (a validation message first), opens the settings, and signs in as that user: the key they create in
the user portal must work with the SDK and its request must show on "My usage". A reload must
keep the session (the refresh cookie). Every page is saved to docs/screenshots/.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import httpx
import openai
import pytest
from gateway_common.apikeys import is_well_formed
from gateway_devstack.seed import ControlClient
from gateway_devstack.system import GatewaySystem

REPO = Path(__file__).resolve().parents[2]
DRIVER = Path(__file__).with_name("drive_console.mjs")
SCREENSHOTS = REPO / "docs" / "screenshots"
PAGES = (
    *("sign-in", "dashboard", "providers", "models", "routes", "tenants"),
    *("api-key-reveal", "api-keys", "api-key-edit", "usage-explorer", "audit-log", "users", "members"),
    *("budgets", "model-edit", "settings", "provider-health"),
    *("my-key-reveal", "my-keys", "my-usage", "profile"),
)


class Driver:
    """The node driver as a child process speaking JSON lines; stderr is kept for failures."""

    def __init__(self, argv: list[str]) -> None:
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1
        )
        self.stderr: list[str] = []
        assert self.proc.stderr is not None
        self._drain = threading.Thread(target=self._collect, args=(self.proc.stderr,), daemon=True)
        self._drain.start()

    def _collect(self, stream: IO[str]) -> None:
        for line in stream:
            self.stderr.append(line)

    def read(self, timeout: float) -> dict[str, Any]:
        """The next event; fails with the driver's output when it errors, exits or stalls."""
        stdout = self.proc.stdout
        assert stdout is not None
        result: list[str] = []
        reader = threading.Thread(target=lambda: result.append(stdout.readline()), daemon=True)
        reader.start()
        reader.join(timeout)
        if not result or not result[0]:
            self.proc.kill()
            pytest.fail(f"browser driver stalled or exited:\n{''.join(self.stderr)[-4000:]}")
        event: dict[str, Any] = json.loads(result[0])
        if event.get("event") == "error":
            pytest.fail(f"browser driver failed: {event['message']}\nbrowser: {event.get('browser_errors')}")
        return event

    def send(self, message: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(message) + "\n")
        self.proc.stdin.flush()

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)
        self._drain.join(10)
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()


@pytest.fixture
def driver(console: GatewaySystem, chromium: Path) -> Iterator[Driver]:
    node = shutil.which("node")
    assert node, "node (20+) is required"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for name in PAGES:
        (SCREENSHOTS / f"{name}.png").unlink(missing_ok=True)
    s = console.secrets
    drv = Driver(
        [
            node,
            str(DRIVER),
            console.control_url,
            s.admin_email,
            s.admin_password,
            console.fake_upstream_url,
            s.upstream_api_key,
            str(SCREENSHOTS),
            uuid.uuid4().hex[:8],
        ]
    )
    yield drv
    drv.close()


def _served(client: openai.OpenAI, model: str, timeout: float = 15.0) -> None:
    """The proxy learns about new keys and models asynchronously (Redis + the NATS snapshot)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if model in [m.id for m in client.models.list()]:
                return
        except openai.APIStatusError as exc:
            if exc.status_code not in (401, 403, 404, 503):
                raise
        assert time.monotonic() < deadline, f"the proxy never served {model}"
        time.sleep(0.1)


def _accounted(admin: ControlClient, timeout: float = 15.0, **scope: str) -> None:
    deadline = time.monotonic() + timeout
    while admin.get("/api/v1/usage/summary", **scope)["requests"] < 1:
        assert time.monotonic() < deadline, "accounting never recorded the request"
        time.sleep(0.1)


def _complete(console: GatewaySystem, key: str, model: str, text: str) -> Any:
    sdk = openai.OpenAI(base_url=console.proxy_url, api_key=key, max_retries=0, timeout=30.0)
    with sdk as client:
        _served(client, model)
        completion = client.chat.completions.create(model=model, messages=[{"role": "user", "content": text}])
    assert completion.choices[0].message.content
    assert completion.usage is not None
    return completion


def _personal_tenant(admin: ControlClient, user_id: str) -> str:
    tenants = admin.get("/api/v1/tenants", include_personal="true", limit=500)["items"]
    [personal] = [t["id"] for t in tenants if t["is_personal"] and t["name"] == f"personal:{user_id}"]
    return str(personal)


@pytest.mark.e2e
# Setup may install Chromium from Debian and run `npm ci` on a fresh machine.
@pytest.mark.timeout(900)
def test_console_creates_a_key_that_works_and_shows_its_usage(
    driver: Driver, console: GatewaySystem, admin: ControlClient
) -> None:
    created = driver.read(timeout=180)
    assert created["event"] == "key"
    assert is_well_formed(created["key"]), "the revealed (and copied) text is a gateway key"

    completion = _complete(console, created["key"], created["model"], "hello from the console test")
    _accounted(admin, tenant_id=created["tenant_id"])
    usage = completion.usage
    assert usage is not None
    driver.send({"prompt_tokens": usage.prompt_tokens, "completion_tokens": usage.completion_tokens})

    portal = driver.read(timeout=180)
    assert portal["event"] == "portal_key"
    assert is_well_formed(portal["key"])
    assert portal["key"] != created["key"]
    _complete(console, portal["key"], portal["model"], "hello from the user portal")
    users = admin.get("/api/v1/users", limit=500)["items"]
    [mine] = [u for u in users if u["email"] == portal["email"]]
    assert not mine["platform_admin"]
    _accounted(admin, tenant_id=_personal_tenant(admin, mine["id"]))
    driver.send({})
    assert driver.read(timeout=120)["event"] == "done"
    missing = [name for name in PAGES if not (SCREENSHOTS / f"{name}.png").is_file()]
    assert missing == [], f"screenshots not saved: {missing}"


def test_control_serves_the_console_next_to_the_api(console: GatewaySystem) -> None:
    with httpx.Client(base_url=console.control_url, timeout=10.0, trust_env=False) as http:
        index = http.get("/")
        assert index.status_code == 200
        assert "text/html" in index.headers["content-type"]
        asset = index.text.split('src="', 1)[1].split('"', 1)[0]
        assert http.get(asset).status_code == 200
        assert http.get("/healthz").status_code == 200
        assert http.get("/readyz").status_code == 200
        assert http.get("/metrics").status_code == 200
        assert http.get("/schema/openapi.json").json()["info"]["title"]
        unknown = http.get("/api/v1/no-such-route")
        assert unknown.status_code == 404
        assert "error" in unknown.json()
        assert http.get("/api/v1/tenants").status_code == 401
