"""Tell whether a TCP port's listener belongs to a given process (Linux /proc).

Readiness checks talk to 127.0.0.1:PORT; if another program took the port between our
choosing it and our server binding it, the check would succeed against the wrong
server. Requiring that our child owns the listening socket rules that out.
"""

from __future__ import annotations

import os
from pathlib import Path

_TCP_LISTEN = "0A"
_TABLES = (Path("/proc/net/tcp"), Path("/proc/net/tcp6"))


def listening_inodes(port: int) -> set[str]:
    """Socket inodes of the TCP listeners on `port` (any address) in our network namespace."""
    inodes: set[str] = set()
    for table in _TABLES:
        try:
            lines = table.read_text().splitlines()[1:]
        except FileNotFoundError:
            continue
        for line in lines:
            fields = line.split()
            local_port = int(fields[1].rsplit(":", 1)[1], 16)
            if local_port == port and fields[3] == _TCP_LISTEN:
                inodes.add(fields[9])
    return inodes


def process_listens_on(pid: int, port: int) -> bool:
    """Tell whether process `pid` holds a socket listening on TCP `port`."""
    inodes = listening_inodes(port)
    if not inodes:
        return False
    fd_dir = f"/proc/{pid}/fd"
    try:
        fds = os.listdir(fd_dir)
    except (FileNotFoundError, ProcessLookupError):
        return False
    for fd in fds:
        try:
            target = os.readlink(f"{fd_dir}/{fd}")
        except OSError:
            continue  # the fd closed while we looked
        if target.startswith("socket:[") and target[8:-1] in inodes:
            return True
    return False
