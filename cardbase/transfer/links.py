"""Link cells named by the target's code, id or display value, resolved for a whole chunk
with one query per link field, among the target records the importer may see. A display
value shared by several records is ambiguous and named with their codes; one that matches
nothing is named too."""
from __future__ import annotations

from collections import defaultdict
from typing import Any, Callable

import sqlalchemy as sa
from sqlalchemy import Connection

from ..schema_engine.snapshot import FieldInfo, Schema
from ..schema_engine.i18n import _, language
from .cells import LinkText

TEXT_TYPES = ("string", "email", "text", "phone", "url", "autonumber")


def resolve_links(conn: Connection, schema: Schema, rows: list[dict[FieldInfo, Any]],
                  errors: list[dict[str, str]], visible: Callable[..., Any] | None = None) -> None:
    """Replace every LinkText in ``rows`` by the id of the record it names, or put an error
    (by field api name) in the row's ``errors`` and drop the value."""
    wanted: dict[FieldInfo, set[str]] = defaultdict(set)
    for row in rows:
        for field, value in row.items():
            for item in _texts(value):
                wanted[field].add(item.text)
    for field, texts in wanted.items():
        found = _lookup(conn, schema, field, texts, visible)
        target = schema.link_target(field)
        for row, row_errors in zip(rows, errors):
            value = row.get(field)
            items = _texts(value)
            if not items:
                continue
            resolved = [found.get(item.text.casefold(), []) for item in items]
            if all(len(hits) == 1 for hits in resolved):
                ids = [hits[0][0] for hits in resolved]
                row[field] = ids if isinstance(value, list) else ids[0]  # a multi-link: every record named
                continue
            del row[field]
            value, hits = next((item, hits) for item, hits in zip(items, resolved) if len(hits) != 1)
            if not hits:
                row_errors[field.api_name] = _("no '%(label)s' record has the code, id or %(shown)s %(value)s",
                                               label=target.label_in(language()),
                                               shown=target.display_field.label_in(language()), value=repr(value.text))
            else:
                codes = ", ".join(sorted(str(c) for _i, c in hits)[:5])
                row_errors[field.api_name] = _("%(value)s is ambiguous: %(count)s '%(label)s' records have it "
                                               "(%(codes)s); write the code instead", value=repr(value.text),
                                               count=len(hits), label=target.label_in(language()), codes=codes)


def _texts(value: Any) -> list[LinkText]:
    """The link texts of a cell: one (a link) or several (a multi-link)."""
    if isinstance(value, LinkText):
        return [value]
    if isinstance(value, list) and value and all(isinstance(v, LinkText) for v in value):
        return value
    return []


def _lookup(conn: Connection, schema: Schema, field: FieldInfo, texts: set[str],
            visible: Callable[..., Any] | None) -> dict[str, list[tuple[int, str]]]:
    """casefolded text -> [(id, code)] of the live, visible records it names. A code or id
    names one record; a display value may name several."""
    target = schema.link_target(field)
    table = schema.table(target)
    seen = visible(target, table) if visible is not None else None
    live = [table.c.deleted_at.is_(None), *([seen] if seen is not None else [])]
    out: dict[str, list[tuple[int, str]]] = {}
    texts_list = sorted(texts)
    for start in range(0, len(texts_list), 500):
        part = texts_list[start:start + 500]
        folded = [t.casefold() for t in part]
        ids = [int(t) for t in part if t.isdigit() and len(t) < 19]
        by_code = sa.func.lower(table.c.code).in_(folded)
        conds = [by_code] + ([table.c.id.in_(ids)] if ids else [])
        shown = target.display_field
        display_col = None
        if shown.api_name != "code" and shown.type in TEXT_TYPES:
            display_col = table.c[shown.column]
            conds.append(sa.func.lower(display_col).in_(folded))
        cols = [table.c.id, table.c.code] + ([display_col] if display_col is not None else [])
        for row in conn.execute(sa.select(*cols).where(sa.or_(*conds), *live)):
            rid, code = row[0], row[1]
            if code is not None and code.casefold() in folded:
                out[code.casefold()] = [(rid, code)]  # a code wins over a display value
            if str(rid) in part:
                out.setdefault(str(rid), [(rid, code)])
            if display_col is not None and row[2] is not None:
                key = str(row[2]).casefold()
                if key in folded and not (key in out and out[key][0][1] is not None and out[key][0][1].casefold() == key):
                    out.setdefault(key, []).append((rid, code))
    return out
