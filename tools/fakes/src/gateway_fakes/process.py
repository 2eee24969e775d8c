"""Start a fake upstream in a subprocess on a free port, for tests and the dev stack.

    with run_fake("openai", api_key="sk-upstream-test") as fake:
        client = openai.OpenAI(base_url=fake.base_url, api_key=fake.api_key)
        ...
        assert fake.requests()[0]["headers"] ...

The subprocess is stopped (SIGTERM, then SIGKILL after a grace period) when the block
exits, even if the test failed.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import orjson

from gateway_fakes.kinds import FAKE_KINDS

_POLL_S = 0.05
_STOP_GRACE_S = 5.0


class FakeStartError(RuntimeError):
    """The fake did not become ready; the message carries the tail of its log."""


@dataclass(slots=True)
class FakeProcess:
    """A running fake upstream and helpers to read its request log."""

    host: str
    port: int
    api_key: str
    process: subprocess.Popen[bytes]
    log_path: Path
    base_path: str = "/v1"

    @property
    def root_url(self) -> str:
        """`http://host:port` (the `/_fake/*` endpoints live here)."""
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """What a client or provider config points at: `http://host:port/v1` (Azure: the root)."""
        return f"{self.root_url}{self.base_path}"

    def requests(self, path: str | None = None) -> list[dict[str, object]]:
        """The recorded requests (optionally only those to `path`, e.g. `/v1/chat/completions`)."""
        query = f"?path={urllib.parse.quote(path)}" if path else ""
        with _open(f"{self.root_url}/_fake/requests{query}") as response:
            records: list[dict[str, object]] = orjson.loads(response.read())
        return records

    def clear(self) -> None:
        """Forget every recorded request."""
        with _open(f"{self.root_url}/_fake/requests", method="DELETE"):
            pass

    def stop(self) -> None:
        """Stop gracefully; kill if it does not exit within the grace period."""
        if self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(_STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def free_port(host: str = "127.0.0.1") -> int:
    """A port that was free a moment ago (the OS may hand it out again; the race is small)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def run_fake(
    kind: str = "openai",
    *,
    api_key: str | None = None,
    host: str = "127.0.0.1",
    port: int | None = None,
    startup_timeout_s: float = 15.0,
) -> Iterator[FakeProcess]:
    """Run `python -m gateway_fakes KIND` until the block exits; yields once it answers.

    `api_key` defaults to the kind's default key (`FAKE_KINDS[kind].default_key`).
    """
    key = api_key or FAKE_KINDS[kind].default_key
    with tempfile.TemporaryDirectory(prefix=f"fake-{kind}-") as tmp:
        log_path = Path(tmp) / "fake.log"
        with log_path.open("wb") as log:
            fake = _spawn(kind, key, host, port or free_port(host), log, log_path)
            try:
                _wait_ready(fake, startup_timeout_s)
                yield fake
            finally:
                fake.stop()


def _spawn(kind: str, api_key: str, host: str, port: int, log: IO[bytes], log_path: Path) -> FakeProcess:
    argv = [
        sys.executable,
        "-m",
        "gateway_fakes",
        kind,
        "--host",
        host,
        "--port",
        str(port),
        "--api-key",
        api_key,
    ]
    process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    return FakeProcess(host, port, api_key, process, log_path, FAKE_KINDS[kind].base_path)


def _wait_ready(fake: FakeProcess, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if fake.process.poll() is not None:
            raise FakeStartError(f"fake exited with {fake.process.returncode}:\n{_tail(fake.log_path)}")
        try:
            fake.requests()
        except (urllib.error.URLError, ConnectionError):
            time.sleep(_POLL_S)
            continue
        return
    raise FakeStartError(f"fake not ready after {timeout_s}s:\n{_tail(fake.log_path)}")


def _open(url: str, method: str = "GET") -> IO[bytes]:
    # Only ever the fake's own http:// URL built above, never user input.
    request = urllib.request.Request(url, method=method)  # noqa: S310
    response: IO[bytes] = urllib.request.urlopen(request, timeout=5)  # noqa: S310
    return response


def _tail(path: Path, limit: int = 4000) -> str:
    return path.read_bytes()[-limit:].decode("utf-8", errors="replace")
