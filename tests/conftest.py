"""Shared fixtures: a fresh cardbase database per test, on SQLite and on PostgreSQL.

Fixtures
  engine_name     "sqlite" / "postgresql"; parametrised (ids sqlite, postgresql), the
                  postgresql param carries the ``postgresql`` marker.
  db_url          URL of a fresh database *with* the system tables, for engine_name.
  db              ``Database(db_url)`` -- the fixture most tests want; disposed afterwards.
  make_database   factory: ``make_database("sqlite" | "postgresql") -> url`` of a new,
                  EMPTY database (no system tables); dropped after the test.
  pg_server       session: the throwaway PostgreSQL cluster (``.host``, ``.port``,
                  ``.admin_url``, ``.url(dbname)``, ``.version``, ``.connect()``).
  pg_bin_dir      session: the PostgreSQL binary dir found, or None.

Environment
  CARDBASE_TEST_DB=sqlite|postgresql   run only that engine (unset: both).
  CI=true                              missing PostgreSQL binaries are an error, not a skip.
"""
from __future__ import annotations

import hashlib
import itertools
import os
import shutil
import time

import jinja2
import jinja2.bccache
import pytest

from cardbase.schema_engine.db import Database

try:  # tests/ may or may not become a package
    from . import db_templates
    from .pg_cluster import PgCluster, find_bin_dir
except ImportError:
    import db_templates
    from pg_cluster import PgCluster, find_bin_dir

ENGINES = ("sqlite", "postgresql")
_SELECTED = os.environ.get("CARDBASE_TEST_DB", "").strip().lower()
_ENGINE_PARAMS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgresql),
]
if _SELECTED in ENGINES:
    _ENGINE_PARAMS = [p for p in _ENGINE_PARAMS if p.values[0] == _SELECTED]

TEMPLATE_DB = "cb_template"
_names = itertools.count(1)

# What happened to PostgreSQL this session, for the terminal summary (under pytest-xdist
# the controller collects each worker's status in _WORKER_STATUS).
_PG_STATUS: dict[str, str] = {"state": "unused", "detail": ""}
_WORKER_STATUS: list[dict[str, str]] = []


def on_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


# -- hooks -------------------------------------------------------------------------------
def pytest_configure(config):
    if _SELECTED and _SELECTED not in ENGINES + ("both", "all"):
        raise pytest.UsageError(
            f"CARDBASE_TEST_DB={_SELECTED!r}: expected 'sqlite', 'postgresql' or unset (both)")
    config.addinivalue_line(
        "markers", "postgresql: runs against the throwaway PostgreSQL cluster")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "pg_server" in item.fixturenames and not item.get_closest_marker("postgresql"):
            item.add_marker(pytest.mark.postgresql)


def pytest_sessionfinish(session):
    workeroutput = getattr(session.config, "workeroutput", None)  # pytest-xdist worker
    if workeroutput is not None:
        workeroutput["cardbase_pg"] = dict(_PG_STATUS)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):  # pytest-xdist controller: collect workers' status
    status = getattr(node, "workeroutput", {}).get("cardbase_pg")
    if status:
        _WORKER_STATUS.append(status)


def pytest_terminal_summary(terminalreporter):
    statuses = _WORKER_STATUS or [_PG_STATUS]
    for state in ("failed", "used", "skipped"):
        details = sorted({s["detail"] for s in statuses if s["state"] == state})
        if details:
            break
    else:
        state = "unused"
        details = [f"CARDBASE_TEST_DB={_SELECTED}" if _SELECTED == "sqlite"
                   else "no selected test needed it"]
    line = {
        "used": "cardbase: {}",
        "skipped": "cardbase: PostgreSQL tests skipped: {}",
        "failed": "cardbase: PostgreSQL FAILED: {}",
        "unused": "cardbase: PostgreSQL not used: {}",
    }[state].format("; ".join(details))
    terminalreporter.write_line(line, red=state == "failed", yellow=state == "skipped",
                                green=state == "used")


# -- Flask apps: compiled templates shared across the session's apps ---------------------
class SharedBytecodeCache(jinja2.BytecodeCache):
    """Compiled Jinja templates kept in memory for the whole session. Every test makes a
    new Flask app, and each app's Jinja environment compiled every template it rendered
    again (~50 ms per page); with this the first compile is reused. The key holds the
    template's name, its source checksum (checked by Jinja itself) and the environment's
    compile-time settings (extensions, filters, tests, syntax), so apps configured
    differently never share code."""

    def __init__(self) -> None:
        self.store: dict[str, bytes] = {}

    def get_bucket(self, environment, name, filename, source):
        key = f"{self.get_cache_key(name, filename)}:{_environment_signature(environment)}"
        bucket = jinja2.bccache.Bucket(environment, key, self.get_source_checksum(source))
        self.load_bytecode(bucket)
        return bucket

    def load_bytecode(self, bucket) -> None:
        code = self.store.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket) -> None:
        self.store[bucket.key] = bucket.bytecode_to_string()


def _environment_signature(env) -> str:
    def name_of(obj):
        obj = getattr(obj, "__func__", obj)
        return f"{getattr(obj, '__module__', '')}.{getattr(obj, '__qualname__', repr(obj))}"
    parts = (sorted(env.extensions), sorted((k, name_of(v)) for k, v in env.filters.items()),
             sorted((k, name_of(v)) for k, v in env.tests.items()), name_of(env.autoescape),
             env.block_start_string, env.block_end_string, env.variable_start_string,
             env.variable_end_string, env.comment_start_string, env.comment_end_string,
             env.line_statement_prefix, env.line_comment_prefix, env.trim_blocks,
             env.lstrip_blocks, env.newline_sequence, env.keep_trailing_newline,
             env.optimized, env.finalize is not None, env.is_async)
    return hashlib.sha1(repr(parts).encode()).hexdigest()


@pytest.fixture(scope="session", autouse=True)
def shared_template_cache():
    """Every Flask app of the session stores compiled templates in one SharedBytecodeCache."""
    import flask

    cache = SharedBytecodeCache()
    original = flask.Flask.create_jinja_environment

    def create_jinja_environment(self):
        env = original(self)
        if env.bytecode_cache is None:
            env.bytecode_cache = cache
        return env
    flask.Flask.create_jinja_environment = create_jinja_environment
    yield cache
    flask.Flask.create_jinja_environment = original


# -- PostgreSQL --------------------------------------------------------------------------
@pytest.fixture(scope="session")
def pg_bin_dir():
    """Directory of initdb/pg_ctl (PATH, then newest /usr/lib/postgresql/*/bin), or None."""
    return find_bin_dir()


@pytest.fixture(scope="session")
def pg_server(pg_bin_dir):
    """A throwaway PostgreSQL cluster for the whole session (see tests/pg_cluster.py)."""
    if pg_bin_dir is None:
        reason = ("PostgreSQL server binaries (initdb, pg_ctl) not found in PATH or "
                  "/usr/lib/postgresql/*/bin -- install them with: apt-get install postgresql")
        if on_ci():
            _PG_STATUS.update(state="failed", detail=reason)
            pytest.fail(f"PostgreSQL binaries are required under CI=true: {reason}",
                        pytrace=False)
        _PG_STATUS.update(state="skipped", detail=reason)
        pytest.skip(reason)
    started = time.perf_counter()
    cluster = PgCluster(pg_bin_dir)
    try:
        cluster.start()
    except Exception as exc:
        _PG_STATUS.update(state="failed", detail=f"could not start the test cluster: {exc}")
        raise
    _PG_STATUS.update(state="used", detail=(
        f"PostgreSQL {cluster.version} used at {cluster.host}:{cluster.port} "
        f"(started in {time.perf_counter() - started:.1f}s from {pg_bin_dir})"))
    yield cluster
    db_templates.forget_postgresql()
    cluster.stop()


@pytest.fixture(scope="session")
def pg_template(pg_server):
    """Name of a database that already has the system tables; copied for every test."""
    url = pg_server.create_database(TEMPLATE_DB)
    database = Database(url)
    try:
        database.create_system_tables()
    finally:
        database.dispose()  # CREATE DATABASE ... TEMPLATE needs it to have no connections
    db_templates.use_postgresql(pg_server, TEMPLATE_DB)
    return TEMPLATE_DB


# -- SQLite ------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    """A SQLite file with the system tables, copied for every test."""
    path = tmp_path_factory.mktemp("sqlite-template") / "cardbase.db"
    database = Database(f"sqlite:///{path}")
    try:
        database.create_system_tables()
    finally:
        database.dispose()  # closing the last connection checkpoints the WAL into the file
    db_templates.use_sqlite(path.parent, path)
    return path


def _copy_sqlite(src, dst) -> None:
    for suffix in ("", "-wal"):
        if os.path.exists(f"{src}{suffix}"):
            shutil.copyfile(f"{src}{suffix}", f"{dst}{suffix}")


# -- per-test databases ------------------------------------------------------------------
@pytest.fixture(params=_ENGINE_PARAMS)
def engine_name(request) -> str:
    """The database engine under test: "sqlite" or "postgresql"."""
    return request.param


@pytest.fixture
def db_url(engine_name, request, tmp_path):
    """URL of a fresh database with the system tables, on ``engine_name``."""
    if engine_name == "sqlite":
        path = tmp_path / "cardbase.db"
        _copy_sqlite(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    server = request.getfixturevalue("pg_server")
    template = request.getfixturevalue("pg_template")
    name = f"test_{next(_names)}"
    url = server.create_database(name, template=template)
    try:
        yield url
    finally:
        server.drop_database(name)


@pytest.fixture
def db(db_url):
    """A ``Database`` on a fresh database with the system tables (one per test)."""
    database = Database(db_url)
    yield database
    database.dispose()


@pytest.fixture
def make_database(request, tmp_path):
    """Factory: ``make_database(engine_name) -> url`` of a new EMPTY database."""
    created: list[tuple[object, str]] = []

    def make(engine: str) -> str:
        if engine == "sqlite":
            return f"sqlite:///{tmp_path / f'empty_{next(_names)}.db'}"
        if engine == "postgresql":
            server = request.getfixturevalue("pg_server")
            name = f"empty_{next(_names)}"
            url = server.create_database(name)
            created.append((server, name))
            return url
        raise ValueError(f"unknown engine {engine!r}; expected one of {ENGINES}")

    yield make
    for server, name in created:
        server.drop_database(name)
