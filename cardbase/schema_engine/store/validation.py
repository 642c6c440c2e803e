"""Input validation for record writes: every problem is collected and named by field."""
from __future__ import annotations

from collections import defaultdict
from typing import Any, Iterable, Mapping, Sequence

import sqlalchemy as sa
from sqlalchemy import Connection

from ..errors import ValidationError
from ..field_types import FieldValueError
from ..meta_models import User
from ..snapshot import FieldInfo, ObjectInfo, Schema
from ..values import LinkRef
from ..i18n import _, language

# Keys a client may send back unchanged (e.g. a whole record read before); never written.
READ_ONLY_KEYS = frozenset({"id", "code", "version", "created_at", "created_by", "modified_at",
                            "modified_by", "owner"})
LINK_TYPES = ("link", "user")


class RowErrors(dict[str, list[str]]):
    """field name -> messages, for one row."""

    def add(self, key: str, message: str) -> None:
        self.setdefault(key, []).append(message)


def parse_row(obj: ObjectInfo, values: Mapping[str, Any], *, creating: bool, importing: bool = False,
              writable=None, readable=None, user_id: int | None = None) -> tuple[dict[FieldInfo, Any], RowErrors]:
    """Parse one row's input. Returns {field: python value} and the row's errors.
    ``writable``/``readable`` are the rights: a field hidden from the writer is refused
    exactly like an unknown one, a read-only one as read-only. ``user_id``: the writer,
    for a default of "me"."""
    errors = RowErrors()
    parsed: dict[FieldInfo, Any] = {}
    if not isinstance(values, Mapping):
        errors.add("record", _("must be an object of field names and values"))
        return parsed, errors
    for key, raw in values.items():
        if key in READ_ONLY_KEYS:
            continue
        if not isinstance(key, str) or not obj.has_field(key) or (
                readable is not None and not readable(obj.field(key))):
            errors.add(str(key), _("is not a field of '%(api_name)s'", api_name=obj.api_name))
            continue
        field = obj.field(key)
        if not field.writable:
            errors.add(key, _("is calculated by the system and cannot be written"))
            continue
        if writable is not None and not writable(field):
            errors.add(key, _("is read-only for you"))
            continue
        if isinstance(raw, LinkRef):
            raw = raw.id
        try:
            value = field.ftype.import_value(field, raw) if importing else field.ftype.parse(field, raw)
            if value is not None:
                field.ftype.check_value(field, value)  # limits such as a minimum and maximum
        except FieldValueError as exc:
            errors.add(key, str(exc))
            continue
        parsed[field] = value
    if creating:
        for field in obj.user_fields:
            if field not in parsed and field.default is not None and field.writable:
                try:
                    parsed[field] = field.ftype.default_value(field, user_id)  # fixed, or today/now/me
                except FieldValueError as exc:  # pragma: no cover - defaults are checked on save
                    errors.add(field.api_name, _('default value is invalid: %(exc)s', exc=exc))
    for field in obj.user_fields:
        if not field.required or not field.writable:
            continue
        missing = field not in parsed if creating else False
        if missing or (field in parsed and parsed[field] is None):
            errors.add(field.api_name, _("is required"))
    return parsed, errors


def check_links(conn: Connection, schema: Schema, rows: list[dict[FieldInfo, Any]],
                errors: list[RowErrors], visible=None) -> None:
    """Every link points at a live record (one query per link field, not per row) that
    the writer may see: ``visible(target, table)`` is the rights' row filter, and a record
    it hides is reported exactly like a missing one."""
    wanted: dict[FieldInfo, set[int]] = defaultdict(set)
    for row in rows:
        for field, value in row.items():
            if field.type in LINK_TYPES and value is not None:
                wanted[field].add(value)
    for field, ids in wanted.items():
        if field.type == "user":
            fits = [i for i in ids if i <= 2**31 - 1]  # cb_user.id is an INTEGER: larger ids cannot exist
            found = set(conn.execute(sa.select(User.id).where(User.id.in_(fits))).scalars())
            trashed: dict[int, str] = {}
            target_label = _("user")
        else:
            target = schema.link_target(field)
            table = schema.table(target)
            found, trashed = set(), {}
            seen = visible(target, table) if visible is not None else None
            targets: Sequence[Any] = conn.execute(sa.select(table.c.id, table.c.code, table.c.deleted_at).where(
                table.c.id.in_(ids), *([seen] if seen is not None else []))).all()
            for rid, code, deleted in targets:
                if deleted is not None:
                    trashed[rid] = code
                else:
                    found.add(rid)
            target_label = _("'%(label)s' record", label=target.label_in(language()))
        for row, row_errors in zip(rows, errors):
            value = row.get(field)
            if value is None or value in found:
                continue
            if value in trashed:
                row_errors.add(field.api_name, _('%(target)s %(code)s is in the trash', target=target_label, code=trashed[value]))
            else:
                row_errors.add(field.api_name, _('there is no %(target)s with id %(id)s', target=target_label, id=value))


def check_unique(conn: Connection, schema: Schema, obj: ObjectInfo, rows: list[dict[FieldInfo, Any]],
                 errors: list[RowErrors], own_ids: Iterable[int | None], visible=None) -> None:
    """Unique fields: no clash inside the batch, nor with another live record. The
    clashing record is named by its code only when the writer may read it
    (``visible(obj, table)`` is the rights' row filter): a record they cannot see is
    "another record", so codes of invisible records never leak."""
    own_ids = list(own_ids)
    table = schema.table(obj)
    for field in obj.user_fields:
        if not field.unique:
            continue
        seen: dict[Any, int] = {}
        db_values = {}
        for i, row in enumerate(rows):
            value = row.get(field)
            if value is None:
                continue
            key = field.ftype.unique_key(field, value)  # as the type compares: e-mails ignore case
            if key in seen:
                errors[i].add(field.api_name, _('value %(value)s is used twice in this batch',
                                                value=repr(field.ftype.format(field, value))))
            seen[key] = i
            db_values[key] = i
        if not db_values:
            continue
        col = field.ftype.unique_expression(field, table.c[field.column])
        seen_clause = visible(obj, table) if visible is not None else None
        shown = table.c.code if seen_clause is None else sa.case((seen_clause, table.c.code), else_=None)
        clash = conn.execute(sa.select(col, table.c.id, shown).where(
            col.in_(list(db_values)), table.c.deleted_at.is_(None))).all()
        for value, rid, code in clash:
            at = db_values.get(value)
            if at is not None and own_ids[at] != rid:
                by = code if code is not None else _("another record")
                used = field.ftype.format(field, rows[at][field])
                errors[at].add(field.api_name, _('must be unique: %(value)s is already used by %(by)s', value=repr(used), by=by))


def raise_if_errors(errors: list[RowErrors], single: bool) -> None:
    if single:
        if errors[0]:
            raise ValidationError(errors[0])
        return
    bad: dict[int, dict[str, list[str]]] = {i: e for i, e in enumerate(errors) if e}
    if bad:
        raise BulkValidationError(bad)


class BulkValidationError(ValidationError):
    """Per-row errors of a bulk write; nothing was written."""

    def __init__(self, rows: dict[int, dict[str, list[str]]]):
        self.rows = rows
        flat = {f"[{i}].{k}": v for i, e in rows.items() for k, v in e.items()}
        super().__init__(flat, message=f"{len(rows)} row(s) have errors; nothing was written: " +
                         "; ".join(f"{k}: {' '.join(v)}" for k, v in list(flat.items())[:10]))

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "rows": {str(i): e for i, e in self.rows.items()}}
