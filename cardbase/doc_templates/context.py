"""The data a document is filled with, read as the user through their engine session.

The root record is read with purpose "print" (the read and print rights on the object);
links and child lists with purpose "read" under the same rights: row filters decide which
child records are listed (one the user cannot see is simply not there), field masks which
fields could be read. A template that needs a field hidden from the user is refused before
anything is read, naming the field -- never filled in with blanks. Reads follow the
checker's ``Plan``: one query per link and per child list, whatever the number of rows."""
from __future__ import annotations

import dataclasses
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Iterable

from cardbase.schema_engine.errors import Forbidden, ValidationError
from cardbase.schema_engine.field_types.money import Money
from cardbase.schema_engine.i18n import _, language
from cardbase.schema_engine.query.model import ListQuery
from cardbase.schema_engine.snapshot import FieldInfo, ObjectInfo
from cardbase.schema_engine.store.session import Session
from cardbase.schema_engine.values import LinkRef

from .checker import Plan
from .limits import MAX_CHILD_ROWS
from .values import EMPTY, Record

RAW_VALUES = (bool, int, float, Decimal, date, datetime, Money)  # kept as values: templates compute with them
PAGE = 500


def check_readable(session: Session, plan: Plan) -> None:
    """Refuse, naming it, the first object or field of the plan the actor may not read."""
    for path, part in plan.walk():
        caps = session.capabilities(part.obj)
        if not caps.can("read"):
            raise Forbidden(_("the template reads %(objects)s (%(path)s), which you may not read",
                              objects=part.obj.label_plural_in(language()), path=path))
        used = list(part.fields.values()) + [link for link in part.child_names.values()
                                             if link.object_id == part.obj.id]
        for field in used:
            if not caps.reads(field):
                raise _hidden(path + "." + field.api_name)
        for link in part.child_names.values():
            child = session.schema.object(link.object_id)
            if not session.capabilities(child).reads(link):
                raise _hidden(child.api_name + "." + link.api_name)


def _hidden(path: str) -> Forbidden:
    return Forbidden(_("the template uses the field '%(field)s', which is hidden from you", field=path))


class ContextBuilder:
    """Builds the template context of records of one object, for one template's plan."""

    def __init__(self, session: Session, plan: Plan, document_language: str):
        self.session, self.plan, self.language = session, plan, document_language
        check_readable(session, plan)

    def context(self, record_id: int) -> dict[str, Any]:
        return self.record(record_id)[1]

    def record(self, record_id: int) -> tuple[str, dict[str, Any]]:
        """(the record's code, the template context for it)."""
        row = self.session.get(self.plan.obj, record_id, purpose="print")
        record = self._records(self.plan, [row])[row["id"]]
        out: dict[str, Any] = {"today": date.today(), "now": datetime.now().replace(microsecond=0)}
        out.update({name: record for name in self.plan.self_names})
        out.update({name: record[name] for name in list(self.plan.names) + list(self.plan.child_names)})
        return str(row.get("code") or row["id"]), out

    # ---- reading -------------------------------------------------------------------------------
    def _records(self, plan: Plan, rows: list[dict[str, Any]]) -> dict[int, Record]:
        linked = {fid: self._linked(plan, fid, sub, rows) for fid, sub in plan.links.items()}
        children = {fid: self._children(plan, fid, sub, [r["id"] for r in rows]) for fid, sub in plan.children.items()}
        out = {}
        for row in rows:
            values: dict[str, Any] = {}
            for name, field in plan.names.items():
                if field.type == "link" and field.id in linked:
                    ref = row.get(field.api_name)
                    values[name] = linked[field.stored_id].get(ref.id, EMPTY) if isinstance(ref, LinkRef) else EMPTY
                else:
                    values[name] = self._value(field, row.get(field.api_name))
            for name, link in plan.child_names.items():
                values[name] = children[link.stored_id].get(row["id"], [])
            out[row["id"]] = Record(values, self._display(plan.obj, row))
        return out

    def _linked(self, plan: Plan, field_id: int, sub: Plan, rows: list[dict[str, Any]]) -> dict[int, Record]:
        field = plan.fields[field_id]
        ids = sorted({ref.id for r in rows if isinstance(ref := r.get(field.api_name), LinkRef)})
        if not ids:
            return {}
        found = self.session.fetch(sub.obj, ids)
        return self._records(sub, list(found.values()))

    def _children(self, plan: Plan, link_id: int, sub: Plan, parent_ids: list[int]) -> dict[int, list[Record]]:
        link = next(f for f in sub.obj.user_fields if f.id == link_id)
        rows = list(self._child_rows(sub.obj, link, parent_ids))
        records = self._records(sub, rows)
        out: dict[int, list[Record]] = {}
        for row in rows:
            ref = row.get(link.api_name)
            if isinstance(ref, LinkRef):
                out.setdefault(ref.id, []).append(records[row["id"]])
        return out

    def _child_rows(self, child: ObjectInfo, link: FieldInfo, parent_ids: list[int]) -> Iterable[dict[str, Any]]:
        query = ListQuery(filter={"field": link.api_name, "op": "in", "value": parent_ids}, sort=["id"], limit=PAGE)
        count = 0
        while True:
            page = self.session.list(child, query, purpose="read", with_count=False)
            count += len(page.data)
            if count > MAX_CHILD_ROWS:
                raise ValidationError({"template": _("a document lists at most %(limit)s %(objects)s",
                                                     limit=MAX_CHILD_ROWS,
                                                     objects=child.label_plural_in(language()))})
            yield from page.data
            if not page.next_cursor:
                return
            query = dataclasses.replace(query, cursor=page.next_cursor)

    # ---- values ---------------------------------------------------------------------------------
    def _value(self, field: FieldInfo, value: Any) -> Any:
        """Numbers, dates and money stay values (to compute with); the rest is the text the
        field type shows (a choice's label, a user's name)."""
        if value is None or isinstance(value, RAW_VALUES):
            return value
        return field.ftype.format(field, value, self.language)

    def _display(self, obj: ObjectInfo, row: dict[str, Any]) -> str:
        shown = obj.display_field
        value = row.get(shown.api_name)
        if value is None:
            return str(row.get("code") or "")
        return shown.ftype.format(shown, value, self.language)
