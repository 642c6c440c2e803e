"""Pickers for the filters of a report page and a dashboard: a date range, a user picker,
a link picker, a choice select -- and the one filter-language condition their values mean.

A picker is built for a field path the reader may read on an object; a value from the
query string must be one of the picker's options (a record id or user id must be one the
reader was offered), so a made-up value is refused naming the field.
"""
from __future__ import annotations

from typing import Any, Mapping

import sqlalchemy as sa
from flask_babel import gettext as _

from cardbase.schema_engine.errors import CardbaseError, ValidationError
from cardbase.schema_engine.field_types.choice import choices_of
from cardbase.schema_engine.meta_models import User
from cardbase.schema_engine.query.paths import resolve
from cardbase.schema_engine.store.session import Session

from ..i18n import current_language
from .widgets.dates import iso_from_local

LINK_CHOICES = 200


def picker_spec(s: Session, obj: Any, path_text: str, label: str | None = None) -> dict[str, Any] | None:
    """The picker for ``path_text`` on ``obj``, or None when the reader may not read it."""
    try:
        path = resolve(s.schema, obj, path_text, field_allowed=s.access.field_readable(obj))
    except CardbaseError:
        return None  # hidden from this reader, or gone: not offered
    f = path.field
    language = current_language()
    spec: dict[str, Any] = {"field": path.text, "label": label or f.label_in(language), "kind": "text"}
    if f.ftype.value_type in ("date", "datetime"):
        spec["kind"] = "date"
    elif f.type == "choice":
        spec.update(kind="choice", options=[(c["value"], c.get("label") or c["value"])
                                            for c in choices_of(f, language)])
    elif f.type == "link" and not path.links:
        spec.update(kind="choice", ids=True, picker="link",
                    options=[(str(ref.id), ref.display or f"#{ref.id}")
                             for ref in s.link_choices(obj, f.api_name, limit=LINK_CHOICES)])
    elif path.kind == "user":
        people = User.__table__
        rows = s.conn.execute(sa.select(people.c.id, people.c.display_name, people.c.username)
                              .where(people.c.active.is_(True)).order_by(people.c.username))
        spec.update(kind="choice", ids=True, picker="user",
                    options=[(str(r.id), r.display_name or r.username) for r in rows])
    return spec


def picker_value(spec: Mapping[str, Any], args: Mapping[str, str]) -> Any:
    """The picker's value in the query string: [from, to] for a date range, a record or
    user id (int) or choice value, or None; a value that is not an option is refused."""
    name = spec["field"]
    if spec["kind"] == "date":
        low, high = (iso_from_local("date", args.get(f"{name}__{end}")) or "" for end in ("from", "to"))
        return [low, high] if low or high else None
    value = (args.get(name) or "").strip()
    if not value:
        return None
    if "options" in spec:
        if value not in {v for v, _label in spec["options"]}:
            raise ValidationError({name: _("is not one of the choices")})
        return int(value) if spec.get("ids") else value
    return value


def picker_condition(spec: Mapping[str, Any], value: Any) -> list[dict[str, Any]]:
    """The filter-language conditions of one picker's value."""
    name = spec["field"]
    if value is None:
        return []
    if spec["kind"] == "date":
        low, high = value
        return ([{"field": name, "op": "ge", "value": low}] if low else []) + \
            ([{"field": name, "op": "le", "value": high}] if high else [])
    return [{"field": name, "op": "eq", "value": value}]
