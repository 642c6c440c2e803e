"""What a link picker fills in when a record is chosen (issue 14, point 4): for each field
of the card whose source is this link and that the user may write, the chosen record's
value as the field's control shows it ("fill" of each choice; cards.js puts it into an
empty control, or one it filled itself before). The store fills the same on save."""
from __future__ import annotations

from typing import Any

from cardbase.schema_engine.field_sources import sourced_fields
from cardbase.schema_engine.field_types import FieldValueError
from cardbase.schema_engine.snapshot import ObjectInfo
from cardbase.schema_engine.store.serialize import value_to_json
from cardbase.schema_engine.store.session import Session
from cardbase.schema_engine.values import LinkRef

from .widgets import widget_for


def fills(s: Session, obj: ObjectInfo, link_name: str, found: list[LinkRef], language: str) -> dict[int, dict[str, Any]]:
    """{chosen id: {field name: control raw}} for the fields filled from ``link_name``."""
    link = obj.field(link_name)
    mine = s.capabilities(obj)
    pairs = [(f, s.schema.field_by_id(src)) for f, link_id, src in sourced_fields(obj)
             if link_id == link.stored_id and mine.writes(f)]
    if not pairs or not found:
        return {}
    target = s.schema.link_target(link)
    records = s.fetch(target, [ref.id for ref in found], fields=sorted({src.api_name for _f, src in pairs}))
    out: dict[int, dict[str, Any]] = {}
    for rid, record in records.items():
        for field, source in pairs:
            if source.api_name not in record:
                continue  # hidden from the user: nothing to copy
            try:
                value = field.ftype.parse(field, value_to_json(source, record[source.api_name]))
            except FieldValueError:
                continue
            out.setdefault(rid, {})[field.api_name] = widget_for(field).to_raw(field, value, language)
    return out
