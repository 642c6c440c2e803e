"""The columns a multi-link's table on the card shows beside each linked record's name:
the first few columns of the target's own table (its default table design), those the
reader may read, and their cells for many records in one read -- for the rows the card
renders and for those the picker adds (``cards.link_choices?cells=1``)."""
from __future__ import annotations

from typing import Sequence

from markupsafe import Markup

from cardbase.schema_engine.layouts.table_designs import get_table
from cardbase.schema_engine.snapshot import FieldInfo, ObjectInfo
from cardbase.schema_engine.store.session import Session

from .display import align_for, render_value

MAX_EXTRA = 2  # beside the name: a small table, not the target's list


def extra_columns(s: Session, target: ObjectInfo) -> list[FieldInfo]:
    """Up to MAX_EXTRA plain fields of the target's table, not its name, readable by the actor."""
    caps = s.capabilities(target)
    if not caps.can("read"):
        return []
    out: list[FieldInfo] = []
    for column in get_table(s, target.api_name)["definition"].get("columns") or ():
        path = column.get("field") if isinstance(column, dict) else None
        f = target.fields_by_name.get(path) if isinstance(path, str) and "." not in path else None
        if f is None or f is target.display_field or f.system or f.type == "text" or f.ftype.stored_apart:
            continue
        if caps.reads(f):
            out.append(f)
        if len(out) == MAX_EXTRA:
            break
    return out


def cells(s: Session, target: ObjectInfo, columns: Sequence[FieldInfo], ids: Sequence[int],
          language: str) -> dict[int, list[Markup]]:
    """record id -> the HTML of its cells (one read for all ``ids``; records the actor may
    not see are absent)."""
    if not columns or not ids:
        return {}
    found = s.fetch(target, list(dict.fromkeys(ids)), fields=[f.api_name for f in columns])
    return {rid: [Markup('<td class="text-{}">{}</td>').format(align_for(f), render_value(s.schema, f, record.get(f.api_name),
                                                                                        language))
                  for f in columns] for rid, record in found.items()}
