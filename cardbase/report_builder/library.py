"""Saved reports: personal (the owner's) or shared with groups, kept in ``cb_report``.

All reads and writes go through the caller's engine session (its transaction and rights
object). Who sees a report: its owner, members of the groups it is shared with, and
admins -- and only while they may report on its object; anyone else gets "no such
report", so a report's existence does not leak. Who changes or deletes it: its owner and
admins. Definitions are stored with field ids (``#12``), so a rename never breaks one, and
the usage finder refuses to delete a field a report uses. A field hidden from the viewer
since the report was saved makes the run refuse naming the field, never a 500.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable, Mapping

import sqlalchemy as sa

from cardbase.schema_engine.errors import Forbidden, NotFound, ValidationError
from cardbase.schema_engine.layouts.common import path_to_named, path_to_stored
from cardbase.schema_engine.meta_models import Group, utcnow
from cardbase.schema_engine.report_models import Report, ReportGroup
from cardbase.schema_engine.rights.stored_filter import to_named as filter_to_named
from cardbase.schema_engine.rights.stored_filter import to_stored as filter_to_stored
from cardbase.schema_engine.snapshot import ObjectInfo, Schema

from .definition import ReportDefinition, parse_definition
from .runner import compile_report

if TYPE_CHECKING:  # pragma: no cover
    from cardbase.schema_engine.store.session import Session

MAX_NAME = 200
_report = Report.__table__
_report_group = ReportGroup.__table__


# ---- named <-> stored -------------------------------------------------------------------------
def definition_to_stored(schema: Schema, obj: ObjectInfo, definition: ReportDefinition) -> dict[str, Any]:
    doc = definition.to_json()
    for key in ("rows", "columns", "measures"):
        for item in doc[key]:
            if item.get("field"):
                item["field"] = path_to_stored(schema, obj, item["field"])
            if item.get("weight"):
                item["weight"] = path_to_stored(schema, obj, item["weight"])
    doc["live_filters"] = [path_to_stored(schema, obj, p) for p in doc["live_filters"]]
    if doc["filter"]:
        doc["filter"] = filter_to_stored(schema, obj, doc["filter"])
    doc["object"] = obj.id
    return doc


def definition_to_named(schema: Schema, obj: ObjectInfo, stored: Mapping[str, Any]) -> dict[str, Any]:
    """Today's names; a path whose field is gone stays as its token (``#12``), so running
    the report names it as missing instead of failing."""
    doc = dict(stored)
    for key in ("rows", "columns", "measures"):
        items = []
        for item in doc.get(key) or []:
            item = dict(item)
            if item.get("field"):
                item["field"] = path_to_named(schema, obj, item["field"]) or item["field"]
            if item.get("weight"):
                item["weight"] = path_to_named(schema, obj, item["weight"]) or item["weight"]
            items.append(item)
        doc[key] = items
    doc["live_filters"] = [path_to_named(schema, obj, p) or p for p in doc.get("live_filters") or []]
    if doc.get("filter"):
        try:
            doc["filter"] = filter_to_named(schema, obj, doc["filter"])
        except ValidationError:
            pass  # keeps the ids: running it says which field is gone
    doc["object"] = obj.api_name
    return doc


# ---- reading ----------------------------------------------------------------------------------
def _visible_clause(s: "Session") -> Any:
    actor = s.actor
    if actor.is_admin:
        return sa.true()
    shared = sa.select(_report_group.c.report_id).where(_report_group.c.group_id.in_(sorted(actor.group_ids)))
    return sa.or_(_report.c.owner_id == actor.user_id, _report.c.id.in_(shared))


def _groups_of(s: "Session", ids: list[int]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {i: [] for i in ids}
    if ids:
        rows = s.conn.execute(sa.select(_report_group.c.report_id, Group.__table__.c.name)
                              .join(Group.__table__, Group.__table__.c.id == _report_group.c.group_id)
                              .where(_report_group.c.report_id.in_(ids)).order_by(Group.__table__.c.name))
        for row in rows:
            out[int(row[0])].append(str(row[1]))
    return out


def _to_dict(s: "Session", row: Any, groups: list[str]) -> dict[str, Any]:
    obj = s.schema.object(row.object_id)
    return {"id": row.id, "name": row.name, "description": row.description, "object": obj.api_name,
            "owner": row.owner_id, "shared_with": groups, "version": row.version,
            "definition": definition_to_named(s.schema, obj, row.definition or {}),
            "editable": s.actor.is_admin or (row.owner_id is not None and row.owner_id == s.actor.user_id)}


def list_reports(s: "Session", object_name: str | None = None) -> list[dict[str, Any]]:
    """The reports the viewer may run, by name (one query, plus one for their groups)."""
    stmt = sa.select(_report).where(_visible_clause(s)).order_by(_report.c.name, _report.c.id)
    if object_name is not None:
        stmt = stmt.where(_report.c.object_id == s.schema.object(object_name).id)
    rows = [r for r in s.conn.execute(stmt) if s.can(r.object_id, "report")]
    groups = _groups_of(s, [r.id for r in rows])
    return [_to_dict(s, r, groups[r.id]) for r in rows]


def get_report(s: "Session", report_id: Any) -> dict[str, Any]:
    rid = _id(report_id)
    row = s.conn.execute(sa.select(_report).where(_report.c.id == rid, _visible_clause(s))).first()
    if row is None or not s.can(row.object_id, "report"):
        raise NotFound(f"there is no report with id {report_id}")
    return _to_dict(s, row, _groups_of(s, [rid])[rid])


def get_reports(s: "Session", report_ids: Iterable[Any]) -> dict[int, dict[str, Any]]:
    """The reports among ``report_ids`` the viewer may run, by id, in one query plus one
    for their groups: a dashboard reads all its widgets' reports at once. An id that is
    missing from the answer is unknown or not the viewer's to read."""
    ids = sorted({number for number in map(id_or_none, report_ids) if number is not None})
    if not ids:
        return {}
    rows = [r for r in s.conn.execute(sa.select(_report).where(_report.c.id.in_(ids), _visible_clause(s)))
            if s.can(r.object_id, "report")]
    groups = _groups_of(s, [r.id for r in rows])
    return {int(r.id): _to_dict(s, r, groups[r.id]) for r in rows}


def load_definition(s: "Session", report: Mapping[str, Any]) -> ReportDefinition:
    return parse_definition(report["definition"])


# ---- writing ----------------------------------------------------------------------------------
def _id(value: Any) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise NotFound(f"there is no report with id {str(value)[:40]}") from None
    return number


def id_or_none(value: Any) -> int | None:
    """A report id, or None for a value that cannot be one."""
    try:
        return _id(value)
    except NotFound:
        return None


def _check_document(s: "Session", doc: Any) -> tuple[str, str, ReportDefinition, list[int]]:
    if not isinstance(doc, Mapping):
        raise ValidationError({"report": 'must be an object like {"name": "...", "definition": {...}}'})
    unknown = set(doc) - {"name", "description", "definition", "shared_with", "version"}
    if unknown:
        raise ValidationError({sorted(unknown)[0]: "is not a report attribute (name, description, definition, "
                                                   "shared_with)"})
    name = doc.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME:
        raise ValidationError({"name": f"must be a non-empty text of at most {MAX_NAME} characters"})
    description = doc.get("description") or ""
    if not isinstance(description, str) or len(description) > 2000:
        raise ValidationError({"description": "must be a text of at most 2000 characters"})
    try:
        definition = parse_definition(doc.get("definition"))
    except ValidationError as exc:
        raise ValidationError({f"definition.{k}": v for k, v in exc.errors.items()}) from None
    try:
        compile_report(s, definition)  # the paths exist and the saver may read them
    except ValidationError as exc:
        raise ValidationError({f"definition.{k}": v for k, v in exc.errors.items()}) from None
    if definition.filter is not None:
        obj = s.object(definition.object)
        try:
            filter_to_stored(s.schema, obj, definition.filter)
        except ValidationError as exc:
            raise ValidationError({f"definition.{k}": v for k, v in exc.errors.items()}) from None
    for i, path in enumerate(definition.live_filters):
        from cardbase.schema_engine.query.paths import resolve
        resolve(s.schema, s.object(definition.object), path,
                field_allowed=s.access.field_readable(s.object(definition.object)),
                key=f"definition.live_filters.{i}")
    return name.strip(), description, definition, _group_ids(s, doc.get("shared_with") or [])


def _group_ids(s: "Session", names: Any) -> list[int]:
    if not isinstance(names, list) or len(names) > 100:
        raise ValidationError({"shared_with": "must be a list of group names"})
    table = Group.__table__
    out = []
    for i, name in enumerate(names):
        row = s.conn.execute(sa.select(table.c.id).where(
            table.c.name == name if isinstance(name, str) else table.c.id == name)).first()
        if row is None:
            raise ValidationError({f"shared_with.{i}": f"there is no group {str(name)[:80]!r}"})
        if not s.actor.is_admin and row.id not in s.actor.group_ids:
            raise ValidationError({f"shared_with.{i}": f"you may share only with groups you belong to, "
                                                       f"not {str(name)[:80]!r}"})
        out.append(row.id)
    return sorted(set(out))


def save_report(s: "Session", doc: Any, report_id: Any = None) -> dict[str, Any]:
    """Create (no id) or replace a report; returns it as the saver now sees it."""
    if report_id is not None and not get_report(s, report_id)["editable"]:
        raise Forbidden("only the owner of a report or an admin may change it")
    name, description, definition, groups = _check_document(s, doc)
    obj = s.require(definition.object, "report")
    stored = definition_to_stored(s.schema, obj, definition)
    values = {"name": name, "description": description, "object_id": obj.id, "definition": stored,
              "modified_at": utcnow()}
    if report_id is None:
        rid = s.conn.execute(sa.insert(_report).values(owner_id=s.actor.user_id, version=1, created_at=utcnow(),
                                                       **values)).inserted_primary_key[0]  # type: ignore[index]
    else:
        current = get_report(s, report_id)
        if not current["editable"]:
            raise Forbidden("only the owner of a report or an admin may change it")
        expected = doc.get("version")
        if expected is not None and expected != current["version"]:
            from cardbase.schema_engine.errors import Conflict
            raise Conflict(f"the report changed since version {expected}; it is at version {current['version']}",
                           current)
        rid = current["id"]
        s.conn.execute(sa.update(_report).where(_report.c.id == rid)
                       .values(version=_report.c.version + 1, **values))
        s.conn.execute(sa.delete(_report_group).where(_report_group.c.report_id == rid))
    if groups:
        s.conn.execute(sa.insert(_report_group), [{"report_id": rid, "group_id": g} for g in groups])
    return get_report(s, rid)


def delete_report(s: "Session", report_id: Any) -> None:
    current = get_report(s, report_id)
    if not current["editable"]:
        raise Forbidden("only the owner of a report or an admin may delete it")
    s.conn.execute(sa.delete(_report_group).where(_report_group.c.report_id == current["id"]))
    s.conn.execute(sa.delete(_report).where(_report.c.id == current["id"]))
