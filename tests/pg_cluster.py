"""A throwaway PostgreSQL cluster for the test session.

Started from the server binaries of the Debian ``postgresql`` package (PATH first, then
the newest ``/usr/lib/postgresql/<version>/bin``) in a temporary directory, listening on
a unix socket inside that directory and on 127.0.0.1:<free port>, with trust auth and
durability switched off for speed. ``initdb`` refuses to run as root, so when we are
root the server runs as the ``postgres`` user (or ``nobody``) through ``runuser``.

Used by ``tests/conftest.py``; nothing here knows about pytest.
"""
from __future__ import annotations

import atexit
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import psycopg

SUPERUSER = "postgres"
HOST = "127.0.0.1"
SERVER_SETTINGS = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "200",
    "log_min_messages": "warning",
}


def find_bin_dir() -> Path | None:
    """The directory holding ``initdb`` and ``pg_ctl``, or None if PostgreSQL is absent."""
    on_path = [shutil.which(name) for name in ("initdb", "pg_ctl")]
    if all(on_path):
        # Debian's /usr/bin wrappers (if any) and /usr/local/bin symlinks: use the real dir.
        return Path(on_path[0]).resolve().parent
    candidates = []
    for bin_dir in Path("/usr/lib/postgresql").glob("*/bin"):
        if (bin_dir / "initdb").exists() and (bin_dir / "pg_ctl").exists():
            try:
                candidates.append((float(bin_dir.parent.name), bin_dir))
            except ValueError:
                continue
    return max(candidates)[1] if candidates else None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


class PgCluster:
    """One initdb'd data directory plus a running postmaster. ``start()`` / ``stop()``."""

    def __init__(self, bin_dir: Path):
        self.bin_dir = bin_dir
        self.host = HOST
        self.port = 0
        self.user = SUPERUSER
        self.version = ""
        self.base_dir: Path | None = None
        self._run_as: str | None = None
        self._running = False

    # -- URLs ------------------------------------------------------------------------
    def url(self, dbname: str = "postgres") -> str:
        """SQLAlchemy URL of a database on this cluster."""
        return f"postgresql+psycopg://{self.user}@{self.host}:{self.port}/{dbname}"

    @property
    def admin_url(self) -> str:
        return self.url("postgres")

    @property
    def socket_dir(self) -> Path:
        assert self.base_dir is not None
        return self.base_dir / "socket"

    @property
    def data_dir(self) -> Path:
        assert self.base_dir is not None
        return self.base_dir / "data"

    @property
    def log_file(self) -> Path:
        assert self.base_dir is not None
        return self.base_dir / "postgres.log"

    # -- lifecycle -------------------------------------------------------------------
    def start(self) -> "PgCluster":
        as_root = os.geteuid() == 0
        self.base_dir = Path(tempfile.mkdtemp(prefix="cardbase-pg-", dir=_parent_dir(as_root)))
        atexit.register(self.stop)  # safety net if the session dies without teardown
        try:
            self.socket_dir.mkdir()
            if as_root:
                self._run_as = _unprivileged_user()
                entry = pwd.getpwnam(self._run_as)
                for path in (self.base_dir, self.socket_dir):
                    os.chown(path, entry.pw_uid, entry.pw_gid)
            self._initdb()
            self._write_config()
            self._start_server()
            self.version = self._query_version()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        if self._running and self.base_dir is not None:
            self._running = False
            self._run(["pg_ctl", "-D", str(self.data_dir), "-m", "immediate", "-w", "stop"],
                      check=False)
        if self.base_dir is not None and self.base_dir.exists():
            shutil.rmtree(self.base_dir, ignore_errors=True)
        self.base_dir = None

    def _initdb(self) -> None:
        base = ["initdb", "-D", str(self.data_dir), "-A", "trust", "-U", SUPERUSER,
                "-E", "UTF8", "--no-sync", "--no-instructions"]
        # C.UTF-8 gives correct upper/lower for non-ASCII text; fall back if it is missing.
        result = self._run(base + ["--locale=C.UTF-8"], check=False)
        if result.returncode != 0:
            shutil.rmtree(self.data_dir, ignore_errors=True)
            self._run(base + ["--no-locale"])

    def _write_config(self) -> None:
        settings = dict(SERVER_SETTINGS, listen_addresses=f"'{self.host}'",
                        unix_socket_directories=f"'{self.socket_dir}'")
        lines = "".join(f"{key} = {value}\n" for key, value in settings.items())
        conf = self.data_dir / "postgresql.conf"
        with conf.open("a") as fh:  # we are the owner, or root: both may append
            fh.write("\n# cardbase test cluster\n" + lines)

    def _start_server(self, attempts: int = 5) -> None:
        for _attempt in range(attempts):
            self.port = free_port()
            result = self._run(
                ["pg_ctl", "-D", str(self.data_dir), "-l", str(self.log_file), "-w", "-t", "60",
                 "-o", f"-p {self.port}", "start"],
                check=False,
            )
            if result.returncode == 0:
                self._running = True
                return
            # Most likely someone took the port between free_port() and bind(): retry.
        raise RuntimeError(
            f"could not start PostgreSQL in {self.data_dir}:\n{result.stdout}\n{result.stderr}\n"
            f"--- server log ---\n{self._log_tail()}"
        )

    def _query_version(self) -> str:
        with self.connect() as conn:
            text = conn.execute("SHOW server_version").fetchone()[0]
        match = re.match(r"[\d.]+", text)
        return match.group(0) if match else text

    # -- databases -------------------------------------------------------------------
    @property
    def major_version(self) -> int:
        return int(self.version.split(".")[0])

    def connect(self, dbname: str = "postgres") -> psycopg.Connection:
        """An autocommit superuser connection (CREATE/DROP DATABASE need one)."""
        return psycopg.connect(host=self.host, port=self.port, user=self.user,
                               dbname=dbname, autocommit=True)

    def create_database(self, name: str, template: str | None = None) -> str:
        """Create database ``name`` (a copy of ``template`` if given); return its URL."""
        sql = f'CREATE DATABASE "{_ident(name)}"'
        if template:
            sql += f' TEMPLATE "{_ident(template)}"'
            if self.major_version >= 15:
                # Copying the files is ~2x faster than WAL-logging them for a small template.
                sql += " STRATEGY FILE_COPY"
        with self.connect() as conn:
            conn.execute(sql)
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """Drop ``name``, terminating any connections a test left open."""
        with self.connect() as conn:
            if self.major_version >= 13:
                conn.execute(f'DROP DATABASE IF EXISTS "{_ident(name)}" WITH (FORCE)')
            else:
                conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                             "WHERE datname = %s AND pid <> pg_backend_pid()", (name,))
                conn.execute(f'DROP DATABASE IF EXISTS "{_ident(name)}"')

    # -- helpers ---------------------------------------------------------------------
    def _run(self, argv: list[str], check: bool = True):
        argv = [str(self.bin_dir / argv[0]), *argv[1:]]
        if self._run_as:
            argv = ["runuser", "-u", self._run_as, "--", *argv]
        result = subprocess.run(argv, capture_output=True, text=True, cwd=self.base_dir,
                                stdin=subprocess.DEVNULL)
        if check and result.returncode != 0:
            raise RuntimeError(
                f"command failed ({result.returncode}): {' '.join(argv)}\n"
                f"{result.stdout}\n{result.stderr}"
            )
        return result

    def _log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def _ident(name: str) -> str:
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", name):
        raise ValueError(f"not a safe database name: {name!r}")
    return name


def _unprivileged_user() -> str:
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    raise RuntimeError("running as root, but neither a 'postgres' nor a 'nobody' user exists "
                       "to run initdb/pg_ctl as")


def _parent_dir(as_root: bool) -> str | None:
    """Where to put the cluster: /dev/shm if it is a roomy tmpfs (creating a database
    there takes ~20 ms instead of 150-300 ms on disk, even with fsync off), else the temp
    dir -- one the unprivileged server user can reach when we are root."""
    shm = Path("/dev/shm")
    try:
        if shm.is_dir() and os.access(shm, os.W_OK) and shutil.disk_usage(shm).free > 1 << 30:
            return str(shm)
    except OSError:
        pass
    if not as_root:
        return None
    tmp = Path(tempfile.gettempdir()).resolve()
    if all(p.stat().st_mode & 0o001 for p in (tmp, *tmp.parents)):
        return str(tmp)
    return "/tmp"
