"""A many-to-many link: one field holding several records of another object (a deal's
products, a contact's tags). The field has no column on the record table: its values are
the rows of a junction table of its own (``naming.links_table_name``: source_id,
target_id, position), so any number of targets costs no schema change and "records
linked to X" is an indexed lookup on target_id.

Read, a value is the list of linked records in the order they were given (``LinkRef``s,
trashed targets left out); written, a list of ids (``[1, 2]``, ``["1", "2"]``,
``[{"id": 1}]``; an empty list or null empties it). The store checks the targets and
replaces the set (``store/multi_links.py``); readers fill a page with one query per
field (``query/multi_links.py``); filters are EXISTS subqueries built here."""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import threading

import marshmallow as ma
import sqlalchemy as sa

from .. import naming
from ..i18n import _
from ..values import LinkRef
from .base import ColumnSpec, FieldType, FieldValueError, OptionContext
from .decimal import shown
from .link import parse_record_id
from .options import INT, OBJECT, OptionSpec, _l
from .registry import register
from .truth import Truth

MAX_LINKS = 1000  # targets of one value: each is a junction row and a bound parameter
READ_KEYS = frozenset({"id", "display", "restricted"})  # a LinkRef in JSON
OPERATORS = ("has_any", "has_all", "has_none", "is_empty", "is_not_empty")


def junction_table(field, metadata: sa.MetaData | None = None) -> sa.Table:
    """The junction table of a multi-link field (no constraints: DDL adds those). Without
    ``metadata``: one shared Table per field for reading and writing, so SQLAlchemy's
    statement cache recognises a page's link query instead of compiling it anew each time
    (the table's shape depends on the field's stored id alone)."""
    if metadata is not None:
        return _junction(field.stored_id, metadata)
    found = _JUNCTIONS.get(field.stored_id)
    if found is None:
        with _JUNCTIONS_LOCK:
            found = _JUNCTIONS.get(field.stored_id)
            if found is None:
                found = _JUNCTIONS[field.stored_id] = _junction(field.stored_id, _JUNCTIONS_METADATA)
    return found


def _junction(stored_id: int, metadata: sa.MetaData) -> sa.Table:
    return sa.Table(naming.links_table_name(stored_id), metadata,
                    sa.Column("source_id", sa.BigInteger, primary_key=True),
                    sa.Column("target_id", sa.BigInteger, primary_key=True),
                    sa.Column("position", sa.Integer, nullable=False))


_JUNCTIONS: dict[int, sa.Table] = {}
_JUNCTIONS_METADATA = sa.MetaData()
_JUNCTIONS_LOCK = threading.Lock()


def parse_ids(raw: Any, most: int) -> list[int]:
    """A list of ids in the forms links are written or read in, each once, in order."""
    if isinstance(raw, (int, str, Mapping, LinkRef)) and not isinstance(raw, bool):
        raw = [raw]
    if not isinstance(raw, (list, tuple)):
        raise FieldValueError(_("must be a list of record ids such as [1, 2], not %(value)s", value=shown(raw)))
    out: list[int] = []
    for item in raw:
        if item is None or item == "":
            continue
        if isinstance(item, Mapping) and "id" in item and set(item) <= READ_KEYS:
            item = item["id"]  # a linked record as read (or kept in the history) may come back
        rid = item.id if isinstance(item, LinkRef) else parse_record_id(item, "a linked record")
        if rid not in out:
            out.append(rid)
    if len(out) > most:
        raise FieldValueError(_("holds at most %(max)s records, got %(count)s", max=most, count=len(out)))
    return out


def ids_of(value: Any) -> list[int]:
    """The target ids of a value as read (LinkRefs) or parsed (ints); [] for empty."""
    return [v.id if isinstance(v, LinkRef) else int(v) for v in value or ()]


@register
class LinksType(FieldType):
    """Links to any number of records of the ``target`` object."""

    name = "links"
    label = _l("Links (several records)")
    operators = OPERATORS
    value_type = "list"  # formulas cannot name it (computed/resolver.py says so)
    indexed = False
    sortable = False
    supports_unique = False
    supports_default = False
    stored_apart = True

    options_legend = _l("Links (several records)")
    options = (
        OptionSpec("target", OBJECT, required=True, label=_l("Links to the object"),
                   doc="the object whose records this field links to"),
        OptionSpec("max_links", INT, minimum=1, maximum=MAX_LINKS, label=_l("At most this many records"),
                   doc=f"the most records one value may hold (at most {MAX_LINKS})"),
    )

    def export_options(self, options: Mapping[str, Any], ctx: OptionContext) -> dict[str, Any]:
        exported = super().export_options(options, ctx)
        if "target" in exported:
            exported["target"] = ctx.object_name(int(exported["target"]))
        return exported

    # ---- physical: no column on the record table ---------------------------------------
    def column_specs(self, field) -> list[ColumnSpec]:
        return []

    def marshmallow_field(self, field) -> ma.fields.Field:
        return ma.fields.List(ma.fields.Integer(strict=True), allow_none=True)

    # ---- values ---------------------------------------------------------------------------
    def is_empty(self, value: Any) -> bool:
        return value is None or value == "" or (isinstance(value, (list, tuple)) and not value)

    def parse(self, field, raw: Any) -> list[int] | None:
        if self.is_empty(raw):
            return None
        return parse_ids(raw, int(field.options.get("max_links") or MAX_LINKS)) or None

    def to_json(self, field, value: Any) -> list[Any] | None:
        if not value:
            return None
        return [v.to_json() if isinstance(v, LinkRef) else int(v) for v in value]

    def to_db(self, field, value: Any) -> tuple:
        return ()

    def from_db(self, field, values: Sequence[Any]) -> Any:
        return None  # filled from the junction table by the reader

    def import_value(self, field, text: Any) -> list[int] | None:
        """"1, 2" or "1; 2" (ids) from a spreadsheet cell."""
        if isinstance(text, str):
            text = text.strip()
            if not text:
                return None
            sep = ";" if ";" in text else ","
            return self.parse(field, [part.strip() for part in text.split(sep) if part.strip()])
        return self.parse(field, text)

    def formula_value(self, field, value: Any) -> Any:
        return ids_of(value)

    def format(self, field, value: Any, locale: str = "en") -> str:
        if not value:
            return ""
        return ", ".join(v.display or f"#{v.id}" if isinstance(v, LinkRef) else f"#{v}"
                         for v in value if not (isinstance(v, LinkRef) and v.restricted))

    def search_text(self, field, value: Any) -> str | None:
        return None

    def search_clause(self, field, cols, word: str):
        return None

    def convert_from(self, field, source, value: Any) -> Any:
        raise FieldValueError(_("a field cannot become a multi-link; add a new one"))

    # ---- querying: ``cols`` is the record's id (query/paths.py) ------------------------
    def sort_expression(self, field, cols):
        return cols[0]

    def filter_value(self, field, op: str, value: Any) -> list[int] | None:
        if op in ("is_empty", "is_not_empty"):
            return None
        if op not in self.operators:
            raise FieldValueError(_("operator '%(op)s' is not supported by a multi-link field", op=op))
        if isinstance(value, (list, tuple)) and len(value) > MAX_LINKS:
            raise FieldValueError(_("at most %(max)s ids are allowed", max=MAX_LINKS))
        parsed = parse_ids(value, MAX_LINKS)
        if not parsed:
            raise FieldValueError(_("operator '%(op)s' needs a list of record ids", op=op))
        return parsed

    def linked(self, field, source_id: Any = None) -> sa.Select:
        """SELECT of the live targets linked from the record ``source_id`` (a column), or,
        without one, of (source_id, target_id) of every live link."""
        junction = junction_table(field)
        target = sa.table(naming.table_name(int(field.options["target"])), sa.column("id"), sa.column("deleted_at"))
        stmt = (sa.select(junction.c.target_id)
                .select_from(junction.join(target, target.c.id == junction.c.target_id))
                .where(target.c.deleted_at.is_(None)))
        if source_id is None:
            return stmt.with_only_columns(junction.c.source_id, junction.c.target_id)
        return stmt.where(junction.c.source_id == source_id)

    def filter_clause(self, field, cols, op: str, value: Any):
        # has_*: the records holding those targets, found through the index on target_id
        # (not a subquery per row); empty or not: does the record hold any live target?
        if op in ("has_any", "has_none", "has_all"):
            links = self.linked(field).subquery()
            holders = sa.select(links.c.source_id).where(links.c.target_id.in_(value))
            if op == "has_all":
                holders = holders.group_by(links.c.source_id).having(sa.func.count() == len(value))
            inside = cols[0].in_(holders)
            return sa.not_(inside) if op == "has_none" else inside
        if op == "is_empty":
            return sa.not_(sa.exists(self.linked(field, cols[0])))
        if op == "is_not_empty":
            return sa.exists(self.linked(field, cols[0]))
        raise FieldValueError(_("operator '%(op)s' is not supported by a multi-link field", op=op))

    def empty_clause(self, field, cols):
        return sa.not_(sa.exists(self.linked(field, cols[0])))

    def filter_match(self, field, op: str, value: Any, current: Any) -> Truth:
        have = set(ids_of(current))
        if op == "has_any":
            return bool(have & set(value))
        if op == "has_none":
            return not have & set(value)
        if op == "has_all":
            return set(value) <= have
        if op == "is_empty":
            return not have
        if op == "is_not_empty":
            return bool(have)
        raise FieldValueError(_("operator '%(op)s' is not supported by a multi-link field", op=op))

    def empty_match(self, field, stored: Any) -> bool:
        return not stored
