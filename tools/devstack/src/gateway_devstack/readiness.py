"""Waiting for a service's /readyz: alive (/healthz) is not the same as able to serve."""

from __future__ import annotations

import time

import httpx


def wait_for_ready(url: str, timeout: float, *, name: str, headers: dict[str, str] | None = None) -> None:
    """Poll `url` until it answers 200; raise TimeoutError naming the service and its last answer."""
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        try:
            response = httpx.get(url, timeout=2.0, trust_env=False, headers=headers)
        except httpx.TransportError as exc:
            last = str(exc)
        else:
            if response.status_code == 200:
                return
            last = f"{response.status_code} {response.text}"
        time.sleep(0.1)
    raise TimeoutError(f"{name} not ready after {timeout} s ({url}): {last}")
