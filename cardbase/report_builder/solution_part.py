"""Reports and dashboards in solutions: the shared ones (and those without an owner) are
exported with the configuration -- definitions with field names, groups by name, a
dashboard's report widgets by report name -- and imported in the import's one
transaction, checked against the imported metadata, so a report that no longer fits
refuses the whole document. Imported reports and dashboards belong to no user (like the
demo's); groups missing in the target are left out and the import's report says so, as
are web-page widgets whose address is not on the target's allow list."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from cardbase.schema_engine.actor import Actor
from cardbase.schema_engine.errors import CardbaseError, SchemaError
from cardbase.schema_engine.meta_models import Group, utcnow
from cardbase.schema_engine.report_models import Dashboard, DashboardGroup, EmbedHost, Report, ReportGroup
from cardbase.schema_engine.snapshot import ObjectInfo, Schema
from cardbase.schema_engine.solution import SolutionPart, solution_part

from .dashboards import WIDGET_KINDS
from .definition import parse_definition
from .library import definition_to_named, definition_to_stored
from .runner import compile_report

REPORTS, DASHBOARDS = "reports", "dashboards"
_report, _report_group = Report.__table__, ReportGroup.__table__
_dash, _dash_group = Dashboard.__table__, DashboardGroup.__table__


def _group_names(conn: Connection) -> dict[int, str]:
    return {int(r[0]): str(r[1]) for r in conn.execute(sa.select(Group.__table__.c.id, Group.__table__.c.name))}


def _shared(conn: Connection, table: sa.Table, key: str) -> dict[int, list[Any]]:
    out: dict[int, list[Any]] = {}
    for row in conn.execute(sa.select(table)):
        out.setdefault(int(row._mapping[key]), []).append(row)
    return out


def export_reports(conn: Connection, schema: Schema) -> list[dict[str, Any]]:
    names = _group_names(conn)
    shares = _shared(conn, _report_group, "report_id")
    out = []
    for row in conn.execute(sa.select(_report).order_by(_report.c.id)):
        if row.owner_id is not None and row.id not in shares:
            continue  # personal: not part of the configuration
        obj = schema.object(row.object_id)
        out.append({"object": obj.api_name, "name": row.name, "description": row.description,
                    "definition": definition_to_named(schema, obj, row.definition or {}),
                    "groups": sorted(names[s.group_id] for s in shares.get(row.id, []))})
    return out


def export_dashboards(conn: Connection, schema: Schema) -> list[dict[str, Any]]:
    names = _group_names(conn)
    shares = _shared(conn, _dash_group, "dashboard_id")
    report_names = {int(r.id): (schema.object_name(r.object_id), r.name)
                    for r in conn.execute(sa.select(_report.c.id, _report.c.object_id, _report.c.name))}
    out = []
    for row in conn.execute(sa.select(_dash).order_by(_dash.c.id)):
        if row.owner_id is not None and row.id not in shares:
            continue
        layout = dict(row.layout or {})
        widgets = []
        for widget in layout.get("widgets") or []:
            widget = dict(widget)
            if "report" in widget:
                found = report_names.get(widget.pop("report"))
                if found is None:
                    continue
                widget["report"] = {"object": found[0], "name": found[1]}
            widgets.append(widget)
        out.append({"name": row.name, "layout": {**layout, "widgets": widgets},
                    "groups": [{"group": names[s.group_id], "default": bool(s.is_default)}
                               for s in sorted(shares.get(row.id, []), key=lambda s: names[s.group_id])]})
    return out


class _Checker:
    """What ``compile_report`` needs of a session, for checking a definition against the
    imported metadata (no rights: the import is a configuration change)."""

    class _Access:
        def field_readable(self, obj: ObjectInfo) -> None:
            return None

    def __init__(self, schema: Schema):
        self.schema, self.access = schema, self._Access()

    def require_purpose(self, obj_ref: str | int, purpose: str) -> ObjectInfo:
        return self.schema.object(obj_ref)


def _entries(entries: Any, key: str) -> list[dict[str, Any]]:
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise SchemaError({key: "must be a list of objects"})
    return entries


def _groups(conn: Connection, wanted: Any, where: str) -> tuple[dict[str, int], list[Any]]:
    if not isinstance(wanted, list):
        raise SchemaError({f"{where}.groups": "must be a list"})
    ids = {str(r[1]): int(r[0]) for r in conn.execute(sa.select(Group.__table__.c.id, Group.__table__.c.name))}
    names = [g.get("group") if isinstance(g, dict) else g for g in wanted]
    return ids, [n for n in names if n not in ids]


def load_reports(conn: Connection, schema: Schema, entries: Any, actor: Actor, report: dict[str, list[str]]) -> None:
    for i, entry in enumerate(_entries(entries, REPORTS)):
        where = f"{REPORTS}[{i}]"
        name = entry.get("name")
        if not isinstance(name, str) or not name.strip() or len(name) > 200:
            raise SchemaError({f"{where}.name": "must be a text of 1 to 200 characters"})
        try:
            definition = parse_definition(entry.get("definition"))
            obj = schema.object(definition.object)
            compile_report(_Checker(schema), definition)  # type: ignore[arg-type]
            stored = definition_to_stored(schema, obj, definition)
        except CardbaseError as exc:
            raise SchemaError({where: f"report '{name}': {exc.message}"}) from None
        ids, missing = _groups(conn, entry.get("groups") or [], where)
        values = {"name": name, "description": str(entry.get("description") or "")[:2000], "object_id": obj.id,
                  "definition": stored, "modified_at": utcnow()}
        found = conn.execute(sa.select(_report.c.id, _report.c.definition).where(
            _report.c.object_id == obj.id, _report.c.name == name, _report.c.owner_id.is_(None))).first()
        if found is None:
            rid = conn.execute(sa.insert(_report).values(owner_id=None, version=1, created_at=utcnow(), **values)
                               ).inserted_primary_key[0]  # type: ignore[index]
            outcome = "added"
        else:
            rid = found.id
            outcome = "changed" if found.definition != stored else ""
            conn.execute(sa.update(_report).where(_report.c.id == rid).values(version=_report.c.version + 1, **values))
            conn.execute(sa.delete(_report_group).where(_report_group.c.report_id == rid))
        groups = sorted({ids[g] for g in entry.get("groups") or [] if g in ids})
        if groups:
            conn.execute(sa.insert(_report_group), [{"report_id": rid, "group_id": g} for g in groups])
        note = f" (groups not here, left out: {', '.join(map(str, missing))})" if missing else ""
        if outcome:
            report[outcome].append(f"report {obj.api_name}: {name}{note}")


def load_dashboards(conn: Connection, schema: Schema, entries: Any, actor: Actor,
                    report: dict[str, list[str]]) -> None:
    prefixes: list[Any] = list(conn.execute(sa.select(EmbedHost.__table__.c.prefix)).scalars())
    hosts = [str(p) for p in prefixes]
    for i, entry in enumerate(_entries(entries, DASHBOARDS)):
        where = f"{DASHBOARDS}[{i}]"
        name = entry.get("name")
        if not isinstance(name, str) or not name.strip() or len(name) > 200:
            raise SchemaError({f"{where}.name": "must be a text of 1 to 200 characters"})
        layout: dict[str, Any] = entry["layout"] if isinstance(entry.get("layout"), dict) else {}
        widgets, left_out = [], []
        for j, widget in enumerate(layout.get("widgets") or []):
            if not isinstance(widget, dict) or widget.get("kind") not in WIDGET_KINDS:
                raise SchemaError({f"{where}.layout.widgets[{j}]": f"must be a widget of kind {', '.join(WIDGET_KINDS)}"})
            widget = dict(widget)
            if isinstance(widget.get("report"), dict):
                ref = widget["report"]
                obj_name = ref.get("object")
                row = conn.execute(sa.select(_report.c.id).where(
                    _report.c.name == ref.get("name"), _report.c.owner_id.is_(None),
                    _report.c.object_id == (schema.object(obj_name).id if isinstance(obj_name, str)
                                            and schema.has_object(obj_name) else -1))).first()
                if row is None:
                    raise SchemaError({f"{where}.layout.widgets[{j}].report":
                                       f"there is no report '{ref.get('name')}' of '{obj_name}' in the solution"})
                widget["report"] = row.id
            if widget["kind"] == "web" and not any(str(widget.get("url", "")).startswith(h) for h in hosts):
                left_out.append(str(widget.get("url"))[:200])
                continue
            widgets.append(widget)
        ids, missing = _groups(conn, entry.get("groups") or [], where)
        stored = {**layout, "widgets": widgets}
        found = conn.execute(sa.select(_dash.c.id).where(_dash.c.name == name, _dash.c.owner_id.is_(None))).first()
        if found is None:
            did = conn.execute(sa.insert(_dash).values(name=name, owner_id=None, layout=stored, version=1,
                                                       created_at=utcnow(), modified_at=utcnow())
                               ).inserted_primary_key[0]  # type: ignore[index]
            outcome = "added"
        else:
            did = found.id
            outcome = "changed"
            conn.execute(sa.update(_dash).where(_dash.c.id == did).values(layout=stored, modified_at=utcnow(),
                                                                          version=_dash.c.version + 1))
            conn.execute(sa.delete(_dash_group).where(_dash_group.c.dashboard_id == did))
        for share in entry.get("groups") or []:
            group = share.get("group") if isinstance(share, dict) else share
            if group in ids:
                default = bool(share.get("default")) if isinstance(share, dict) else False
                if default:
                    conn.execute(sa.update(_dash_group).where(_dash_group.c.group_id == ids[group])
                                 .values(is_default=False))
                conn.execute(sa.insert(_dash_group).values(dashboard_id=did, group_id=ids[group], is_default=default))
        notes = ([f"groups not here, left out: {', '.join(map(str, missing))}"] if missing else []) + \
            ([f"web pages not on the allow list, left out: {', '.join(left_out)}"] if left_out else [])
        report[outcome].append(f"dashboard {name}" + (f" ({'; '.join(notes)})" if notes else ""))


solution_part(SolutionPart(REPORTS, export_reports, load_reports))
solution_part(SolutionPart(DASHBOARDS, export_dashboards, load_dashboards))
