"""The admin console in a real browser against the whole gateway.

Debian's Chromium, driven by playwright-core (drive_console.mjs), signs in, adds a provider, a
priced model and a route, creates a tenant and an API key, and copies the key from its one-time
reveal. The test then calls the proxy with that key through the official openai SDK, waits until
accounting has the request, and the browser must show exactly that request on the usage page.
Every page is saved to docs/screenshots/.
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
    *("sign-in", "providers", "models", "routes", "tenants"),
    *("api-key-reveal", "api-keys", "usage", "audit-log"),
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


def _accounted(admin: ControlClient, tenant_id: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while admin.get("/api/v1/usage/summary", tenant_id=tenant_id)["requests"] < 1:
        assert time.monotonic() < deadline, "accounting never recorded the request"
        time.sleep(0.1)


@pytest.mark.e2e
# Setup may install Chromium from Debian and run `npm ci` on a fresh machine.
@pytest.mark.timeout(900)
def test_console_creates_a_key_that_works_and_shows_its_usage(
    driver: Driver, console: GatewaySystem, admin: ControlClient
) -> None:
    created = driver.read(timeout=180)
    assert created["event"] == "key"
    assert is_well_formed(created["key"]), "the revealed (and copied) text is a gateway key"

    sdk = openai.OpenAI(base_url=console.proxy_url, api_key=created["key"], max_retries=0, timeout=30.0)
    with sdk as client:
        _served(client, created["model"])
        completion = client.chat.completions.create(
            model=created["model"], messages=[{"role": "user", "content": "hello from the console test"}]
        )
    assert completion.choices[0].message.content
    assert completion.usage is not None
    _accounted(admin, created["tenant_id"])

    usage = completion.usage
    driver.send({"prompt_tokens": usage.prompt_tokens, "completion_tokens": usage.completion_tokens})
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
