"""Sort specs ("-amount,name" or ["-amount", "name"]) compiled to ORDER BY.

Empty values sort as the smallest: first ascending, last descending, on both engines.
That is SQLite's native order, and PostgreSQL's field indexes are built NULLS FIRST (see
``physical.py``), so an index scan serves the sort on both; a descending sort is the
exact reverse of an ascending one, which keeps keyset cursors simple. ``id`` is always
the final tiebreaker, in the direction of the key before it, so the order is total,
paging never skips or repeats a row, and the (column, rowid) index order still applies.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.sql.elements import ColumnElement

from ..errors import ValidationError
from ..i18n import _
from .paths import FieldAllowed, JoinBuilder, resolve

MAX_SORT_KEYS = 5


@dataclass(frozen=True)
class SortKey:
    path: str
    desc: bool
    expr: ColumnElement
    nullable: bool = True

    def order_by(self) -> ColumnElement:
        if not self.nullable:  # plain, so SQLite can walk the primary key
            return self.expr.desc() if self.desc else self.expr.asc()
        return self.expr.desc().nulls_last() if self.desc else self.expr.asc().nulls_first()


def parse_sort(spec: Any) -> list[tuple[str, bool]]:
    """``"-amount,name"`` -> [("amount", True), ("name", False)], validated."""
    if spec is None or spec == "" or spec == []:
        return []
    if isinstance(spec, str):
        items: list[Any] = spec.split(",")
    elif isinstance(spec, (list, tuple)):
        items = list(spec)
    else:
        raise ValidationError({"sort": 'must be a text like "-amount,name" or a list of field paths'})
    out: list[tuple[str, bool]] = []
    for item in items:
        if not isinstance(item, str):
            raise ValidationError({"sort": f"items must be field paths, not {type(item).__name__}"})
        text = item.strip()
        desc = text.startswith("-")
        name = text[1:].strip() if text[:1] in "+-" and text else text
        if not name:
            raise ValidationError({"sort": "has an empty item"})
        if any(name == seen for seen, _ in out):
            raise ValidationError({"sort": f"'{name}' is listed twice"})
        out.append((name, desc))
    if len(out) > MAX_SORT_KEYS:
        raise ValidationError({"sort": f"has {len(out)} keys; at most {MAX_SORT_KEYS} are allowed"})
    return out


def unsortable(name: str, field_type: str) -> ValidationError:
    """The refusal of a sort by a field whose type has no order (several linked records)."""
    return ValidationError({"sort": _("'%(name)s': a %(type)s field cannot be sorted", name=name, type=field_type)})


def build_sort(joins: JoinBuilder, spec: Any, *, field_allowed: FieldAllowed | None = None) -> list[SortKey]:
    """The sort keys of a statement (resolving paths adds their joins), id last."""
    keys: list[SortKey] = []
    for name, desc in parse_sort(spec):
        path = resolve(joins.schema, joins.obj, name, field_allowed=field_allowed, key="sort")
        if not getattr(path.field.ftype, "sortable", True):  # a type may opt out
            raise unsortable(name, path.field.type)
        if not path.links and path.field.api_name == "id":
            keys.append(SortKey("id", desc, joins.base.c.id, nullable=False))
            break  # ids are unique: nothing after them can change the order
        keys.append(SortKey(name, desc, joins.sort_expression(path)))
    if not keys or keys[-1].path != "id":
        keys.append(SortKey("id", keys[-1].desc if keys else False, joins.base.c.id, nullable=False))
    return keys


def order_by(keys: list[SortKey]) -> list[ColumnElement]:
    return [k.order_by() for k in keys]
