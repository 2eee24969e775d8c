"""Where the proxy worker's time goes: py-spy samples summarised by function.

`py-spy record --format raw` writes collapsed stacks (`frame;frame;... count`). The summary
gives each function's self share (leaf frames) and inclusive share (anywhere on the stack),
which is what docs/performance.md reports.
"""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path


def record(pid: int, seconds: int, out: Path) -> None:
    """Sample `pid` (and its threads) for `seconds` at 200 Hz into collapsed stacks at `out`."""
    py_spy = Path(sys.executable).with_name("py-spy")
    subprocess.run(
        [str(py_spy), "record", "--pid", str(pid), "--duration", str(seconds), "--rate", "200",
         "--format", "raw", "--nonblocking", "--output", str(out)],
        check=True,
        capture_output=True,
    )  # fmt: skip


def _function(frame: str) -> str:
    # "handle (gateway_proxy/routes/endpoints.py:58)" -> "handle (gateway_proxy/routes/endpoints.py)"
    name, _, where = frame.partition(" (")
    path = where.rsplit(":", 1)[0]
    for marker in ("site-packages/", "python3.11/", "src/"):
        if marker in path:
            path = path.split(marker, 1)[1]
    return f"{name} ({path})"


def summarise(collapsed: Path, top: int = 25) -> tuple[int, list[tuple[str, float]], list[tuple[str, float]]]:
    """(total samples, top self shares, top inclusive shares) from a collapsed-stack file."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = [_function(f) for f in stack.split(";") if f and not f.startswith("process ")]
        if not frames:
            continue
        own[frames[-1]] += count
        for name in set(frames):
            inclusive[name] += count
    if total == 0:
        return 0, [], []
    return (
        total,
        [(name, 100 * n / total) for name, n in own.most_common(top)],
        [(name, 100 * n / total) for name, n in inclusive.most_common(top)],
    )
