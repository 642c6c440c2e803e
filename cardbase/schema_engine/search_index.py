"""Full-text search over an object's text fields, in the database's own index.

SQLite: an FTS5 table ``obj_<id>_fts`` (rowid = record id). PostgreSQL: a table of
``tsvector`` documents with a GIN index. The record store writes one document per record
(the text of its searchable fields), so adding a field needs no rebuild; removing or
retyping one does (``schema_service`` rebuilds it with ``query.reader``). Queries match every word as a prefix: "mül ber" finds
"Müller, Berlin".
"""
from __future__ import annotations

import re
from typing import Any, Iterable, Mapping

import sqlalchemy as sa
from sqlalchemy import Connection

from . import naming
from .snapshot import ObjectInfo

MAX_TERMS = 8
_WORD = re.compile(r"\w+", re.UNICODE)
_NON_WORD = re.compile(r"[^\w]+", re.UNICODE)


def document(obj: ObjectInfo, record: Mapping[str, Any]) -> str:
    """The search document of a record: its searchable values, space separated."""
    parts = []
    for f in obj.searchable_fields:
        value = record.get(f.api_name)
        if value is not None:
            text = f.ftype.search_text(f, value)
            if text:
                parts.append(text)
    # Punctuation becomes space so both engines split "ORG-00002" and "a.b@c.de" alike
    # (PostgreSQL's parser would otherwise read "-00002" as a signed number).
    return _NON_WORD.sub(" ", " ".join(parts)).strip()


def terms(query: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(query or "")][:MAX_TERMS]


def _fts_table(obj: ObjectInfo, dialect: str) -> sa.TableClause:
    name = naming.fts_table_name(obj.id)
    if dialect == "sqlite":
        return sa.table(name, sa.column("rowid"), sa.column("doc"))
    return sa.table(name, sa.column("id"), sa.column("doc"))


def write(conn: Connection, obj: ObjectInfo, docs: Iterable[tuple[int, str]], replace: bool = True) -> None:
    """Insert or replace the documents of records ``(id, text)``."""
    docs = list(docs)
    if not docs:
        return
    name = naming.fts_table_name(obj.id)
    if conn.dialect.name == "sqlite":
        if replace:
            conn.exec_driver_sql(f"DELETE FROM {name} WHERE rowid = ?", [(rid,) for rid, _ in docs])
        conn.exec_driver_sql(f"INSERT INTO {name}(rowid, doc) VALUES (?, ?)", list(docs))
    else:
        stmt = sa.text(
            f"INSERT INTO {name}(id, doc) VALUES (:id, to_tsvector('simple', :doc)) "
            "ON CONFLICT (id) DO UPDATE SET doc = EXCLUDED.doc")
        conn.execute(stmt, [{"id": rid, "doc": doc} for rid, doc in docs])


def delete(conn: Connection, obj: ObjectInfo, ids: Iterable[int]) -> None:
    ids = list(ids)
    if not ids:
        return
    name = naming.fts_table_name(obj.id)
    key = "rowid" if conn.dialect.name == "sqlite" else "id"
    conn.execute(sa.text(f"DELETE FROM {name} WHERE {key} = :id"), [{"id": i} for i in ids])


def match_ids(obj: ObjectInfo, dialect: str, query: str) -> sa.Select | None:
    """A sub-select of the ids whose document matches every word of ``query`` as a prefix;
    None when the query has no words (no search)."""
    words = terms(query)
    if not words:
        return None
    table = _fts_table(obj, dialect)
    if dialect == "sqlite":
        expr = " ".join('"' + w.replace('"', '""') + '"*' for w in words)
        return sa.select(table.c.rowid).where(sa.text(f"{table.name} MATCH :fts_q").bindparams(fts_q=expr))
    expr = " & ".join(re.sub(r"[^\w]", "", w) + ":*" for w in words)
    return sa.select(table.c.id).where(
        table.c.doc.op("@@")(sa.func.to_tsquery(sa.literal_column("'simple'"), sa.bindparam("fts_q", expr))))
