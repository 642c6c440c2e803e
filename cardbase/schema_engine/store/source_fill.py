"""The pipeline's fill step for source fields (``field_sources.py``): when a write sets or
changes a link, each field whose source is that link and that the write does not itself
mention gets the linked record's value -- one read per link field for the whole batch,
under the writer's rights (a value they may not read is not copied). Afterwards the field
is an ordinary value: editable, and not changed when the linked record changes."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping, Sequence

from ..field_sources import sourced_fields
from ..field_types import FieldValueError
from ..i18n import _, language
from ..snapshot import FieldInfo, ObjectInfo
from ..values import LinkRef
from .serialize import value_to_json
from .validation import RowErrors

if TYPE_CHECKING:  # pragma: no cover
    from .session import Session


def fill_from_sources(tx: "Session", obj: ObjectInfo, rows: list[dict[FieldInfo, Any]],
                      given: Sequence[set[str]], errors: list[RowErrors],
                      current: Sequence[Mapping[str, Any] | None]) -> None:
    """Fill ``rows`` (parsed values by field) in place; ``given``: the keys each row's
    input named; ``current``: each record before the write (None when created)."""
    sourced = sourced_fields(obj)
    if not sourced or not rows:
        return
    schema = tx.schema
    by_link: dict[int, list[tuple[FieldInfo, FieldInfo]]] = {}
    for field, link_id, source_id in sourced:
        if tx.access.field_writable(obj, field):
            by_link.setdefault(link_id, []).append((field, schema.field_by_id(source_id)))
    for link_id, pairs in by_link.items():
        link = schema.field_by_id(link_id)
        wanted: dict[int, int] = {}
        for i, row in enumerate(rows):
            value = row.get(link)
            if value is None:
                continue
            was = current[i]
            before = was.get(link.api_name) if was is not None else None
            if isinstance(before, LinkRef) and before.id == value:
                continue  # the link did not change: nothing is copied again
            if any(f.api_name not in given[i] for f, _s in pairs):
                wanted[i] = int(value)
        if not wanted:
            continue
        target = schema.link_target(link)
        names = sorted({s.api_name for _f, s in pairs})
        found = tx.fetch(target, sorted(set(wanted.values())), fields=names)
        for i, target_id in wanted.items():
            record = found.get(target_id)
            if record is None:
                continue  # a missing or invisible target: the link check reports it
            for field, source in pairs:
                if field.api_name in given[i] or source.api_name not in record:
                    continue
                try:
                    value = field.ftype.parse(field, value_to_json(source, record[source.api_name]))
                    if value is not None:
                        field.ftype.check_value(field, value)
                except FieldValueError as exc:
                    errors[i].add(field.api_name, _("could not be filled from %(source)s: %(problem)s",
                                                    source=f"{target.label_in(language())}.{source.label_in(language())}",
                                                    problem=exc))
                    continue
                rows[i][field] = value
