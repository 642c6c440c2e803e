"""Engine creation and transactions that behave the same on SQLite and PostgreSQL.

SQLite's Python driver opens transactions lazily and commits DDL behind our back; the
pysqlite recipe below (autocommit driver + our own BEGIN) makes DDL roll back with the
metadata, which the whole schema engine relies on.
"""
from __future__ import annotations

import os
from contextlib import contextmanager
from typing import Any, Iterator

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.dialects.sqlite.base import SQLiteCompiler
from sqlalchemy.engine import make_url

from . import data_versions, exact_sums
from .snapshot import Schema, SchemaCache
from .system_tables import create_system_tables

DEFAULT_URL = "sqlite:///cardbase.db"


def database_url(url: str | None = None) -> str:
    """The URL to use: the argument, else CARDBASE_DATABASE_URL, else a local SQLite file."""
    url = url or os.environ.get("CARDBASE_DATABASE_URL") or DEFAULT_URL
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str | None = None, *, busy_timeout: float = 30, **kwargs) -> Engine:
    """Create an engine with the per-dialect settings cardbase needs. ``busy_timeout``
    (SQLite): seconds a statement waits for another connection's lock before "database
    is locked" (tests use a short one)."""
    url = database_url(url)
    if url.startswith("sqlite"):
        kwargs.setdefault("connect_args", {}).setdefault("timeout", busy_timeout)
        engine = create_engine(url, **kwargs)
        _install_sqlite_recipe(engine, busy_timeout)
    else:
        kwargs.setdefault("pool_pre_ping", True)
        engine = create_engine(url, **kwargs)
    data_versions.install(engine)
    return engine


class _SQLiteCompiler(SQLiteCompiler):
    """SQLite's compiler, rendering FROM hints (``obj_1 NOT INDEXED``: a whole-table
    report scans the table instead of walking an index and looking up every row), which
    SQLAlchemy's own leaves out."""

    def get_from_hint_text(self, table: Any, text: str | None) -> str | None:
        return text


def _install_sqlite_recipe(engine: Engine, busy_timeout: float = 30) -> None:
    engine.dialect.statement_compiler = _SQLiteCompiler
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):  # pragma: no cover - exercised by every test
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves
        cur = dbapi_conn.cursor()
        exact_sums.install(dbapi_conn)  # SUM/AVG of decimals and money in Decimal, not floats
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
        if engine.url.database not in (None, "", ":memory:"):
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection):
        # Writers take the write lock up front: a deferred transaction that reads and
        # then writes fails with "database is locked" instead of waiting its turn.
        # Straight to the driver: the BEGIN needs no statement compilation or result, and
        # going through exec_driver_sql costs more than a one-row read. Listeners on
        # before_cursor_execute therefore see the statements, never BEGIN.
        mode = "IMMEDIATE" if conn.get_execution_options().get("cardbase_write") else "DEFERRED"
        dbapi = conn.connection.dbapi_connection
        assert dbapi is not None  # a connection that began a transaction has its DB-API connection
        dbapi.execute(f"BEGIN {mode}")


class Database:
    """An engine plus the schema cache; the handle every service is given."""

    def __init__(self, url: str | Engine | None = None, **engine_kwargs):
        self.engine: Engine = url if isinstance(url, Engine) else make_engine(url, **engine_kwargs)
        self.schema_cache = SchemaCache(self)
        data_versions.install(self.engine)  # every committed write bumps its tables' data versions

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read transaction (deferred on SQLite, so readers never queue behind writers)."""
        with self.engine.connect() as conn:
            with conn.begin():
                yield conn

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction: commits on success, rolls everything back on any error."""
        with self.engine.connect().execution_options(cardbase_write=True) as conn:
            with conn.begin():
                yield conn

    def schema(self, conn: Connection | None = None) -> Schema:
        """The current immutable schema snapshot (rebuilt only when the version moved)."""
        return self.schema_cache.get(conn)

    def create_system_tables(self) -> None:
        """Create the system (metadata) tables if missing. Idempotent."""
        create_system_tables(self)

    def optimize(self) -> None:
        """Refresh the planner's statistics (PRAGMA optimize / ANALYZE)."""
        if self.is_sqlite:
            with self.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA optimize")
                conn.commit()
        else:
            with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("ANALYZE")

    def analyze(self, table: str) -> None:
        """Fresh planner statistics for one table after a large write (an import): without
        them PostgreSQL plans a report over 100k new rows as if the table were empty (a sort
        on disk instead of a hash aggregate, twice the time) until autovacuum comes round.
        SQLite's planner is left on its defaults, which the engine's statements are tuned for."""
        if self.is_sqlite:
            return
        quoted = self.engine.dialect.identifier_preparer.quote(table)
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql(f"ANALYZE {quoted}")

    def dispose(self) -> None:
        self.engine.dispose()
