"""Template databases per fixture schema: build a test schema once, copy it into each test.

The fixture builders (``crm`` in schema_engine/crm_fixture.py, ``order_book`` in
computed_fixture.py, ``crm_app``/``designer_app`` in platform/api_testlib.py and
designer_testlib.py ...) used to run their DDL in every test that asked for them. Now they
call ``from_template(db, key, build)``:

* the first time a ``key`` is asked for on an engine, ``build`` runs once in a database
  of its own (a copy of the bare system tables) which becomes the template;
* every test then gets a copy of the template in its own database: on PostgreSQL the
  test's database is dropped and created again with the same name as ``CREATE DATABASE
  <test db> TEMPLATE <template>`` (a file copy); on SQLite the template's pages are
  written into the test's file with the sqlite3 backup API (safe with open connections);
* the ``Database`` handle keeps working: its pool is disposed and its schema cache
  invalidated, so the next read loads the copied snapshot (versions are in the copy).

Sequences, AUTOINCREMENT counters, ``cb_sequence`` and the schema and rights versions are
copied with the data, so ids and codes are exactly those a build in the test's own
database gives. A copy is only made into a *pristine* database -- one whose tables, rows
and sequences are still those of a fresh test database (checked each time, a few small
reads); anything else (a test that wrote first, an in-memory SQLite, a database on
another server, a failed template build) runs ``build`` in the test's database as before.
Each test owns its copy, so a test that changes the schema changes nobody else's.

Knob: ``CARDBASE_TEST_TEMPLATES=0`` turns the copies off (every builder runs its DDL) --
to check that a failure has nothing to do with them.

Registered by tests/conftest.py (``use_sqlite`` / ``use_postgresql``); knows nothing of
pytest.
"""
from __future__ import annotations

import os
import re
import sqlite3
from pathlib import Path
from typing import Any, Callable

import sqlalchemy as sa

from cardbase.schema_engine.db import Database

ENABLED = os.environ.get("CARDBASE_TEST_TEMPLATES", "1").strip().lower() not in ("0", "false", "no", "off")
MAX_ROWS = 100  # a fresh database's tables hold a row or two; more means "not pristine"

_sqlite: dict[str, Any] = {}  # "dir": where template files go, "base": the bare template file
_pg: dict[str, Any] = {}  # "cluster": the PgCluster, "base": name of the bare template db
_templates: dict[tuple[str, str], Any] = {}  # (engine, key) -> template path / db name, None = build failed
_fresh: dict[str, tuple] = {}  # engine -> fingerprint of a fresh test database
stats = {"copied": 0, "built": 0, "direct": 0}  # for the curious (tests/test_infrastructure.py)


def use_sqlite(template_dir: Path, base: Path) -> None:
    """Templates of SQLite test databases go to ``template_dir``; ``base`` has the bare
    system tables (what every test database starts as)."""
    _sqlite.update(dir=Path(template_dir), base=Path(base))


def use_postgresql(cluster, base: str) -> None:
    """Templates of PostgreSQL test databases are databases of ``cluster``; ``base`` is the
    database with the bare system tables."""
    _pg.update(cluster=cluster, base=base)
    for key in [k for k in _templates if k[0] == "postgresql"]:
        del _templates[key]  # a new cluster (should not happen in one session): rebuild
    _fresh.pop("postgresql", None)


def forget_postgresql() -> None:
    _pg.clear()
    for key in [k for k in _templates if k[0] == "postgresql"]:
        del _templates[key]
    _fresh.pop("postgresql", None)


def from_template(db: Database, key: str, build: Callable[[Database], Any]) -> None:
    """Make ``db`` hold what ``build(db)`` would create, from a per-session template when
    ``db`` is a pristine test database (see the module docstring), else by ``build(db)``.
    ``key`` names the template: one key, one ``build`` (same result every time)."""
    target = _target(db) if ENABLED else None
    if target is None or not _pristine(db, target[0]):
        stats["direct"] += 1
        build(db)
        return
    engine, where = target
    if (engine, key) not in _templates:
        _templates[engine, key] = _build_template(engine, key, build)
        stats["built"] += 1
    template = _templates[engine, key]
    if template is None:  # building it failed once: let the test see the error itself
        stats["direct"] += 1
        build(db)
        return
    db.dispose()
    if engine == "sqlite":
        _sqlite_copy(template, where)
    else:
        cluster = _pg["cluster"]
        cluster.drop_database(where)
        cluster.create_database(where, template=template)
    db.dispose()
    db.schema_cache.invalidate()
    stats["copied"] += 1


# -- which database is it? ----------------------------------------------------------------
def _target(db: Database) -> tuple[str, Any] | None:
    """("sqlite", file path) or ("postgresql", database name) when templates can serve
    ``db``; None otherwise."""
    url = db.engine.url
    if db.is_sqlite:
        if not _sqlite or url.database in (None, "", ":memory:") or url.query:
            return None
        path = Path(url.database)
        return ("sqlite", path) if path.is_file() else None
    cluster = _pg.get("cluster")
    if (db.dialect != "postgresql" or cluster is None or url.host != cluster.host
            or url.port != cluster.port or not url.database
            or not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", url.database)):
        return None
    return "postgresql", url.database


def _pristine(db: Database, engine: str) -> bool:
    if engine not in _fresh:
        fresh = Database(_base_url(engine))
        try:
            _fresh[engine] = _fingerprint(fresh)
        finally:
            fresh.dispose()  # the base template must have no connections to be copied
    return _fresh[engine] is not None and _fingerprint(db) == _fresh[engine]


def _fingerprint(db: Database) -> tuple | None:
    """The database's tables, indexes, rows and sequences; None when it holds too much
    to be a fresh test database."""
    with db.read() as conn:
        if db.is_sqlite:
            objects = conn.exec_driver_sql(
                "SELECT type, name, sql FROM sqlite_master ORDER BY type, name").all()
            tables = [name for kind, name, _sql in objects if kind == "table"]
            sequences: list = []
        else:
            objects = conn.exec_driver_sql(
                "SELECT c.relkind::text, c.relname FROM pg_class c JOIN pg_namespace n "
                "ON n.oid = c.relnamespace WHERE n.nspname = 'public' ORDER BY 1, 2").all()
            tables = [name for kind, name in objects if kind == "r"]
            sequences = conn.exec_driver_sql(
                "SELECT sequencename, last_value FROM pg_sequences "
                "WHERE schemaname = 'public' ORDER BY 1").all()
        rows = []
        for name in tables:
            found = conn.execute(sa.text(f'SELECT * FROM "{name}" LIMIT {MAX_ROWS + 1}')).all()
            if len(found) > MAX_ROWS:
                return None
            rows.append((name, sorted(repr(tuple(r)) for r in found)))
    return tuple(objects), tuple(sequences), tuple(rows)


# -- templates ------------------------------------------------------------------------------
def _base_url(engine: str) -> str:
    if engine == "sqlite":
        return f"sqlite:///{_sqlite['base']}"
    return _pg["cluster"].url(_pg["base"])


def _build_template(engine: str, key: str, build: Callable[[Database], Any]):
    """A new template database made by ``build``: its path / name, or None if it failed."""
    safe = re.sub(r"[^a-z0-9_]", "_", key.lower())[:40]
    if engine == "sqlite":
        path = _sqlite["dir"] / f"tpl_{safe}_{len(_templates)}.db"
        _sqlite_copy(_sqlite["base"], path)
        url, ref = f"sqlite:///{path}", path
    else:
        name = f"tpl_{safe}_{len(_templates)}"
        url, ref = _pg["cluster"].create_database(name, template=_pg["base"]), name
    database = Database(url)
    try:
        build(database)
    except Exception:
        ref = None
    finally:
        database.dispose()  # SQLite: checkpoints the WAL; PostgreSQL: no connection left
    if ref is None:
        if engine == "postgresql":
            _pg["cluster"].drop_database(name)
        else:
            path.unlink(missing_ok=True)
    return ref


def _sqlite_copy(src: Path, dst: Path) -> None:
    """Write ``src``'s pages into ``dst`` (created if missing) with the backup API: SQLite
    locks ``dst`` while it does, so connections open on it see the whole new content."""
    source = sqlite3.connect(str(src))
    try:
        target = sqlite3.connect(str(dst), timeout=30)
        try:
            source.backup(target)
        finally:
            target.close()
    finally:
        source.close()
