"""Data versions: a token per object table that changes with every committed write to it.

Result caches (the reports' ``result_cache``) must never serve figures older than the
data, in any process. So every transaction that writes an object table (``obj_<id>``), a
multi-link's junction table (``lnk_<field id>``) or
one of the system tables a report's SQL may read (shares, users, groups, exchange rates,
the schema and rights state) gives that table a fresh random token in ``cb_data_version``,
in the same transaction, just before it commits. A cache keys its entries on the tokens of
the tables a result was read from; a write anywhere changes a token, and the next reader
(of any worker) misses.

The writes are seen where SQL is sent to the driver (``before_cursor_execute``), not where
each write path calls the store: the record pipeline, bulk inserts, imports, backup
restore, formula and rollup recomputation, DDL of a schema change and raw maintenance SQL
all pass there, so no write path can forget to bump. Over-approximating is harmless (an
``INSERT ... SELECT`` bumps the tables it reads too); missing a write is not, hence the
rule "every non-SELECT statement naming a tracked table counts".

Cheap by construction: statements are only scanned (no query), the tokens of a
transaction's touched tables are written once at commit, in name order (so two writers
never wait on each other's version rows in opposite orders), one upsert per table.
Random tokens, unlike counters, are never reused: not after a rollback, nor after a backup
brings old data back (its tokens then name exactly the data they were written with).
"""
from __future__ import annotations

import re
import secrets
import threading
import weakref
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy import Connection, Engine, event

from . import exact_sums, naming

if TYPE_CHECKING:  # pragma: no cover
    from .snapshot import Schema

TABLE = "cb_data_version"
# System tables whose rows a report's SQL can read (record shares in scopes, users and
# groups in "user" groups and team scopes, rates in conversions) or whose change means
# "everything may differ" (the schema and rights state rows).
TRACKED_SYSTEM_TABLES = frozenset({
    "cb_share", "cb_user", "cb_group", "cb_user_group", "cb_exchange_rate", "cb_currency_settings",
    "cb_meta_state", "cb_rights_state"})
SCHEMA_AND_RIGHTS = ("cb_meta_state", "cb_rights_state")

_PENDING = "cardbase_pending_writes"  # key in the DB-API connection's info: tables touched
_NAME = re.compile(r"(?<![A-Za-z0-9])(?:_alembic_tmp_)?(obj_\d+|lnk_\d+|cb_[a-z_]+)(?![A-Za-z0-9_])", re.IGNORECASE)
_FUNCTIONS = frozenset({exact_sums.SUM_NAME, exact_sums.AVG_NAME})  # SQL functions, not tables
_FIRST_WORD = re.compile(r"\s*(?:/\*.*?\*/\s*)*([A-Za-z]+)", re.DOTALL)
_WRITE_WORDS = frozenset({"INSERT", "UPDATE", "DELETE", "REPLACE", "TRUNCATE", "ALTER", "DROP", "CREATE", "MERGE",
                          "COPY"})
_DML = re.compile(r"\b(?:INSERT|UPDATE|DELETE|MERGE)\b", re.IGNORECASE)
_UPSERT = (f"INSERT INTO {TABLE} (name, token) VALUES ({{name}}, {{token}}) "
           "ON CONFLICT (name) DO UPDATE SET token = excluded.token")
_READ_ALL = f"SELECT name, token FROM {TABLE}"

_installed: "weakref.WeakSet[Engine]" = weakref.WeakSet()
_ready: "weakref.WeakSet[Engine]" = weakref.WeakSet()  # engines whose database has the table
_lock = threading.Lock()


def tracked(name: str) -> bool:
    """Whether writes to the table ``name`` change a data version."""
    if name.startswith(("obj_", "lnk_")):  # an object's table, a multi-link's junction table
        return name[4:].isdigit()
    return name in TRACKED_SYSTEM_TABLES


# Tables whose rows the database itself changes when another one's are deleted (foreign
# keys ON DELETE CASCADE): a reader of the first depends on the second's version too.
_CASCADED_FROM = {"cb_share": ("cb_user", "cb_group"), "cb_user_group": ("cb_user", "cb_group")}


def tables_behind(schema: "Schema", names: set[str]) -> set[str]:
    """``names`` plus the tables whose deletes cascade into them: a multi-link's junction
    table loses rows when its source or target record is purged."""
    out = set(names)
    for name in names:
        out.update(_CASCADED_FROM.get(name, ()))
        if name.startswith("lnk_") and name[4:].isdigit():
            field_id = int(name[4:])
            for obj in schema.objects:
                for field in obj.user_fields:
                    if field.stored_id == field_id and field.type == "links":
                        out.update({obj.table_name, naming.table_name(int(field.options["target"]))})
    return out


def tables_in(sql: str) -> set[str]:
    """The object and system tables a statement's text names (lower case)."""
    return {m.group(1).lower() for m in _NAME.finditer(sql)} - _FUNCTIONS


def written_tables(statement: str) -> set[str]:
    """The tracked tables a statement may write: none for a SELECT, else every tracked
    table it names."""
    head = statement[:8].lstrip().upper()
    if head.startswith("SELECT"):
        return set()
    first = _FIRST_WORD.match(statement)
    word = first.group(1).upper() if first else ""
    if word not in _WRITE_WORDS and not (word == "WITH" and _DML.search(statement)):
        return set()
    return {name for name in tables_in(statement) if tracked(name)}


def pending_writes(conn: Connection) -> frozenset[str]:
    """The tracked tables this connection's open transaction has written (not yet bumped)."""
    return frozenset(conn.info.get(_PENDING) or ())


def has_table(conn: Connection) -> bool:
    """Whether the database has the versions table (``cardbase init`` adds it to older
    ones); remembered per engine once true."""
    engine = conn.engine
    if engine in _ready:
        return True
    if sa.inspect(conn).has_table(TABLE):
        with _lock:
            _ready.add(engine)
        return True
    return False


def read_tokens(conn: Connection) -> dict[str, str] | None:
    """Every table's token (one small query), or None when the database has no versions."""
    if not has_table(conn):
        return None
    return {str(name): str(token) for name, token in conn.exec_driver_sql(_READ_ALL)}


def bump(conn: Connection, names: set[str] | frozenset[str]) -> None:
    """Give ``names`` one fresh token in ``conn``'s transaction."""
    if names and has_table(conn):
        token = secrets.token_hex(16)
        # Straight to the driver (our own SQL, parameterised): a write's commit pays no compilation.
        if conn.dialect.paramstyle == "qmark":
            conn.exec_driver_sql(_UPSERT.format(name="?", token="?"), [(name, token) for name in sorted(names)])
        else:
            conn.exec_driver_sql(_UPSERT.format(name="%(name)s", token="%(token)s"),
                                 [{"name": name, "token": token} for name in sorted(names)])


def install(engine: Engine) -> None:
    """Watch ``engine``'s statements and bump the written tables at each commit (idempotent)."""
    with _lock:
        if engine in _installed:
            return
        _installed.add(engine)
    event.listen(engine, "before_cursor_execute", _seen)
    event.listen(engine, "begin", _forget)
    event.listen(engine, "rollback", _forget)
    event.listen(engine, "commit", _committing)


def _seen(conn: Connection, _cursor: Any, statement: str, _parameters: Any, _context: Any,
          _executemany: bool) -> None:
    names = written_tables(statement)
    if names:
        pending = conn.info.get(_PENDING)
        if pending is None:
            conn.info[_PENDING] = pending = set()
        pending.update(names)


def _forget(conn: Connection) -> None:
    conn.info.pop(_PENDING, None)


def _committing(conn: Connection) -> None:
    """Runs inside the transaction, just before COMMIT: the tokens commit with the data."""
    names = conn.info.pop(_PENDING, None)
    if names:
        bump(conn, names)
