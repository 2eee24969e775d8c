"""Running wrk (pinned to a core) with a POST body and parsing RPS and latency percentiles."""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Final

_UNITS: Final = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60_000.0}
_LATENCY = re.compile(r"^\s+(50|99)(?:\.0+)?%\s+([\d.]+)(us|ms|s|m)\s*$", re.MULTILINE)
_RPS = re.compile(r"^Requests/sec:\s+([\d.]+)", re.MULTILINE)
_ERRORS = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)|Socket errors:.*", re.MULTILINE)

_LUA = """wrk.method = "POST"
wrk.body = {body}
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer {key}"
"""


@dataclass(frozen=True)
class WrkResult:
    """One wrk run: requests per second, p50 and p99 latency in ms, and error lines."""

    rps: float
    p50_ms: float
    p99_ms: float
    errors: str


def write_script(path: Path, body: dict[str, object], key: str) -> Path:
    """A wrk Lua script that POSTs `body` as JSON with the virtual key."""
    path.write_text(_LUA.format(body=json.dumps(json.dumps(body)), key=key))
    return path


def run_wrk(url: str, script: Path, *, connections: int, seconds: int, core: int) -> WrkResult:
    """Run wrk with one thread on `core` and return its numbers."""
    argv = [
        "taskset", "-c", str(core),
        "wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "10s",
        "-s", str(script), url,
    ]  # fmt: skip
    out = subprocess.run(argv, check=True, capture_output=True, text=True).stdout
    latencies = {pct: float(value) * _UNITS[unit] for pct, value, unit in _LATENCY.findall(out)}
    rps = _RPS.search(out)
    errors = "; ".join(m.group(0).strip() for m in _ERRORS.finditer(out))
    if rps is None or "50" not in latencies or "99" not in latencies:
        raise RuntimeError(f"could not parse wrk output:\n{out}")
    return WrkResult(float(rps.group(1)), latencies["50"], latencies["99"], errors)
