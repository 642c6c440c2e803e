"""Dashboards: a grid of widgets, personal or shared with groups, one of them a group's
default (which replaces the home page's count tiles for its members).

A widget is one of a small registry of kinds -- a saved report drawn as its chart, as its
pivot or as one KPI number, a record list ("My open tasks"), or an external web page
whose URL starts with a prefix on the admin-kept allow list (``cb_embed_host``). Width
(1-12 grid columns) and height (1-4 rows) and the order are what dragging changes.
Dashboard-wide filters ({"field": path, "op", "value"}) are passed to every widget whose
object has the path.

A widget whose report the viewer may not read is not an error of the dashboard: it
renders as "not available to you" (``widget_problem``); a saver must be able to read the
reports they place.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping
from urllib.parse import urlsplit

import sqlalchemy as sa

from cardbase.schema_engine.errors import CardbaseError, Forbidden, NotFound, ValidationError
from cardbase.schema_engine.meta_models import Group, utcnow
from cardbase.schema_engine.query.paths import resolve
from cardbase.schema_engine.report_models import Dashboard, DashboardGroup, EmbedHost

from . import library

if TYPE_CHECKING:  # pragma: no cover
    from cardbase.schema_engine.store.session import Session

WIDGET_KINDS = ("chart", "pivot", "kpi", "list", "web")
MAX_WIDGETS = 24
MAX_FILTERS = 6
_dash = Dashboard.__table__
_dash_group = DashboardGroup.__table__
_hosts = EmbedHost.__table__


# ---- the allow list of embeddable pages ---------------------------------------------------------
def embed_hosts(s: "Session") -> list[str]:
    rows: list[Any] = list(s.conn.execute(sa.select(_hosts.c.prefix).order_by(_hosts.c.prefix)).scalars())
    return [str(p) for p in rows]


def set_embed_hosts(s: "Session", prefixes: Any) -> list[str]:
    """Replace the allow list (admins only); each entry an https:// or http:// URL prefix."""
    if not s.actor.is_admin:
        raise Forbidden("only an admin may change which web pages dashboards embed")
    if not isinstance(prefixes, list) or len(prefixes) > 200:
        raise ValidationError({"prefixes": "must be a list of at most 200 URL prefixes"})
    clean = []
    for i, prefix in enumerate(prefixes):
        if not isinstance(prefix, str) or not _web_url(prefix) or len(prefix) > 500:
            raise ValidationError({f"prefixes.{i}": "must be an http:// or https:// URL with a host, like "
                                                    "https://maps.example.com/"})
        clean.append(prefix.strip())
    s.conn.execute(sa.delete(_hosts))
    if clean:
        s.conn.execute(sa.insert(_hosts), [{"prefix": p} for p in sorted(set(clean))])
    return embed_hosts(s)


def _web_url(url: str) -> bool:
    parts = urlsplit(url.strip())
    return parts.scheme in ("http", "https") and bool(parts.netloc) and not any(c in url for c in "\n\r\t\"'<> ")


def check_embed_url(s: "Session", url: Any, key: str) -> str:
    if not isinstance(url, str) or not url.strip():
        raise ValidationError({key: "must be the address of a web page"})
    url = url.strip()
    if not _web_url(url):
        scheme = urlsplit(url).scheme or "none"
        raise ValidationError({key: f"must be an http:// or https:// address (scheme {scheme[:20]!r} is not allowed)"})
    if not any(url.startswith(prefix) for prefix in embed_hosts(s)):
        raise ValidationError({key: f"{url[:200]} is not on the allow list of embeddable pages; an admin keeps it"})
    return url


# ---- widgets ------------------------------------------------------------------------------------
def _size(value: Any, key: str, low: int, high: int, default: int) -> int:
    if value is None:
        return default
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ValidationError({key: f"must be a whole number from {low} to {high}"})
    return value


def _check_widget(s: "Session", widget: Any, i: int) -> dict[str, Any]:
    key = f"widgets.{i}"
    if not isinstance(widget, Mapping):
        raise ValidationError({key: 'must be an object like {"kind": "chart", "report": 1}'})
    unknown = set(widget) - {"kind", "report", "url", "title", "width", "height", "object", "filter", "limit"}
    if unknown:
        raise ValidationError({f"{key}.{sorted(unknown)[0]}": "is not a widget attribute"})
    kind = widget.get("kind")
    if kind not in WIDGET_KINDS:
        raise ValidationError({f"{key}.kind": f"must be one of {', '.join(WIDGET_KINDS)}"})
    title = widget.get("title") or ""
    if not isinstance(title, str) or len(title) > 200:
        raise ValidationError({f"{key}.title": "must be a text of at most 200 characters"})
    out: dict[str, Any] = {"kind": kind, "title": title, "width": _size(widget.get("width"), f"{key}.width", 1, 12, 6),
                           "height": _size(widget.get("height"), f"{key}.height", 1, 4, 2)}
    if kind in ("chart", "pivot", "kpi"):
        try:
            report = library.get_report(s, widget.get("report"))
        except NotFound:
            raise ValidationError({f"{key}.report": f"there is no report {str(widget.get('report'))[:40]} "
                                                    "you may read"}) from None
        out["report"] = report["id"]
    elif kind == "web":
        out["url"] = check_embed_url(s, widget.get("url"), f"{key}.url")
    else:  # a record list
        name = widget.get("object")
        if not isinstance(name, str) or not s.schema.has_object(name) or not s.can(name, "read"):
            raise ValidationError({f"{key}.object": "must name an object you may read"})
        obj = s.object(name)
        out["object"] = obj.api_name
        if widget.get("filter") is not None:
            if not isinstance(widget["filter"], dict):
                raise ValidationError({f"{key}.filter": "must be a condition object"})
            s.count(obj, widget["filter"])  # compiles it for the saver (a bad path is named)
            out["filter"] = widget["filter"]
        out["limit"] = _size(widget.get("limit"), f"{key}.limit", 1, 50, 10)
    return out


def _check_filters(filters: Any) -> list[dict[str, Any]]:
    if filters is None:
        return []
    if not isinstance(filters, list) or len(filters) > MAX_FILTERS:
        raise ValidationError({"filters": f"must be a list of at most {MAX_FILTERS} field paths"})
    out = []
    for i, item in enumerate(filters):
        if not isinstance(item, Mapping) or not isinstance(item.get("field"), str):
            raise ValidationError({f"filters.{i}": 'must be like {"field": "close_date", "label": "Close date"}'})
        out.append({"field": item["field"], "label": str(item.get("label") or "")[:200]})
    return out


def check_layout(s: "Session", layout: Any) -> dict[str, Any]:
    if not isinstance(layout, Mapping):
        raise ValidationError({"layout": 'must be an object like {"widgets": [...]}'})
    widgets = layout.get("widgets") or []
    if not isinstance(widgets, list) or len(widgets) > MAX_WIDGETS:
        raise ValidationError({"widgets": f"must be a list of at most {MAX_WIDGETS} widgets"})
    return {"widgets": [_check_widget(s, w, i) for i, w in enumerate(widgets)],
            "filters": _check_filters(layout.get("filters"))}


# ---- dashboards ---------------------------------------------------------------------------------
def _visible(s: "Session") -> Any:
    if s.actor.is_admin:
        return sa.true()
    shared = sa.select(_dash_group.c.dashboard_id).where(_dash_group.c.group_id.in_(sorted(s.actor.group_ids)))
    return sa.or_(_dash.c.owner_id == s.actor.user_id, _dash.c.id.in_(shared))


def _shares(s: "Session", ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    out: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
    if ids:
        g = Group.__table__
        for row in s.conn.execute(
                sa.select(_dash_group.c.dashboard_id, g.c.name, _dash_group.c.is_default)
                .join(g, g.c.id == _dash_group.c.group_id).where(_dash_group.c.dashboard_id.in_(ids))
                .order_by(g.c.name)):
            out[int(row[0])].append({"group": row[1], "default": bool(row[2])})
    return out


def _to_dict(s: "Session", row: Any, shares: list[dict[str, Any]]) -> dict[str, Any]:
    return {"id": row.id, "name": row.name, "owner": row.owner_id, "layout": row.layout or {"widgets": []},
            "shared_with": shares, "version": row.version,
            "editable": s.actor.is_admin or (row.owner_id is not None and row.owner_id == s.actor.user_id)}


def list_dashboards(s: "Session") -> list[dict[str, Any]]:
    rows = list(s.conn.execute(sa.select(_dash).where(_visible(s)).order_by(_dash.c.name, _dash.c.id)))
    shares = _shares(s, [r.id for r in rows])
    return [_to_dict(s, r, shares[r.id]) for r in rows]


def get_dashboard(s: "Session", dashboard_id: Any) -> dict[str, Any]:
    try:
        did = int(dashboard_id)
    except (TypeError, ValueError):
        raise NotFound(f"there is no dashboard with id {str(dashboard_id)[:40]}") from None
    row = s.conn.execute(sa.select(_dash).where(_dash.c.id == did, _visible(s))).first()
    if row is None:
        raise NotFound(f"there is no dashboard with id {dashboard_id}")
    return _to_dict(s, row, _shares(s, [did])[did])


def default_dashboard(s: "Session") -> dict[str, Any] | None:
    """The default dashboard of one of the viewer's groups (the lowest id wins), or None."""
    if not s.actor.group_ids:
        return None
    row = s.conn.execute(sa.select(_dash).join(_dash_group, _dash_group.c.dashboard_id == _dash.c.id)
                         .where(_dash_group.c.is_default.is_(True),
                                _dash_group.c.group_id.in_(sorted(s.actor.group_ids)))
                         .order_by(_dash.c.id).limit(1)).first()
    return None if row is None else _to_dict(s, row, _shares(s, [row.id])[row.id])


def _check_shares(s: "Session", shares: Any) -> list[tuple[int, bool]]:
    if shares is None:
        return []
    if not isinstance(shares, list) or len(shares) > 100:
        raise ValidationError({"shared_with": 'must be a list like [{"group": "Sales", "default": true}]'})
    g = Group.__table__
    out = []
    for i, item in enumerate(shares):
        name = item.get("group") if isinstance(item, Mapping) else item
        row = s.conn.execute(sa.select(g.c.id).where(g.c.name == name if isinstance(name, str) else
                                                     g.c.id == name)).first()
        if row is None:
            raise ValidationError({f"shared_with.{i}": f"there is no group {str(name)[:80]!r}"})
        default = bool(item.get("default")) if isinstance(item, Mapping) else False
        if not s.actor.is_admin and (row.id not in s.actor.group_ids or default):
            raise ValidationError({f"shared_with.{i}": "you may share only with your own groups, and only an admin "
                                                       "makes a group's default dashboard"})
        out.append((row.id, default))
    return out


def save_dashboard(s: "Session", doc: Any, dashboard_id: Any = None) -> dict[str, Any]:
    if dashboard_id is not None and not get_dashboard(s, dashboard_id)["editable"]:
        raise Forbidden("only the owner of a dashboard or an admin may change it")
    if not isinstance(doc, Mapping):
        raise ValidationError({"dashboard": 'must be an object like {"name": "...", "layout": {"widgets": []}}'})
    unknown = set(doc) - {"name", "layout", "shared_with", "version"}
    if unknown:
        raise ValidationError({sorted(unknown)[0]: "is not a dashboard attribute (name, layout, shared_with)"})
    name = doc.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 200:
        raise ValidationError({"name": "must be a non-empty text of at most 200 characters"})
    layout = check_layout(s, doc.get("layout") or {"widgets": []})
    shares = _check_shares(s, doc.get("shared_with"))
    values = {"name": name.strip(), "layout": layout, "modified_at": utcnow()}
    if dashboard_id is None:
        did = s.conn.execute(sa.insert(_dash).values(owner_id=s.actor.user_id, version=1, created_at=utcnow(),
                                                     **values)).inserted_primary_key[0]  # type: ignore[index]
    else:
        current = get_dashboard(s, dashboard_id)
        if not current["editable"]:
            raise Forbidden("only the owner of a dashboard or an admin may change it")
        did = current["id"]
        s.conn.execute(sa.update(_dash).where(_dash.c.id == did).values(version=_dash.c.version + 1, **values))
        s.conn.execute(sa.delete(_dash_group).where(_dash_group.c.dashboard_id == did))
    for gid, default in shares:
        if default:  # one default per group
            s.conn.execute(sa.update(_dash_group).where(_dash_group.c.group_id == gid).values(is_default=False))
    if shares:
        s.conn.execute(sa.insert(_dash_group), [{"dashboard_id": did, "group_id": gid, "is_default": d}
                                                 for gid, d in shares])
    return get_dashboard(s, did)


def delete_dashboard(s: "Session", dashboard_id: Any) -> None:
    current = get_dashboard(s, dashboard_id)
    if not current["editable"]:
        raise Forbidden("only the owner of a dashboard or an admin may delete it")
    s.conn.execute(sa.delete(_dash_group).where(_dash_group.c.dashboard_id == current["id"]))
    s.conn.execute(sa.delete(_dash).where(_dash.c.id == current["id"]))


def widget_report(s: "Session", widget: Mapping[str, Any], readable: Mapping[int, dict[str, Any]] | None = None
                  ) -> tuple[dict[str, Any] | None, str | None]:
    """The widget's report for this viewer, or the problem to show in its place;
    ``readable``: the board's reports read at once (``library.get_reports``)."""
    if readable is not None:
        key = library.id_or_none(widget.get("report"))
        report = readable.get(key) if key is not None else None
        return (report, None) if report is not None else (None, "not_available")
    try:
        return library.get_report(s, widget.get("report")), None
    except NotFound:
        return None, "not_available"


def dashboard_filter(s: "Session", object_name: str, filters: list[dict[str, Any]],
                     values: Mapping[str, Any]) -> dict | None:
    """The dashboard-wide filter values as a filter of one widget's object: a condition for
    each filter whose path the object has (and the viewer may read)."""
    obj = s.object(object_name)
    readable = s.access.field_readable(obj)
    parts = []
    for item in filters:
        value = values.get(item["field"])
        if value in (None, "", []):
            continue
        try:
            path = resolve(s.schema, obj, item["field"], field_allowed=readable)
        except CardbaseError:
            continue
        if path.field.ftype.value_type in ("date", "datetime") and isinstance(value, list) and len(value) == 2:
            if value[0]:
                parts.append({"field": path.text, "op": "ge", "value": value[0]})
            if value[1]:
                parts.append({"field": path.text, "op": "le", "value": value[1]})
        else:
            parts.append({"field": path.text, "op": "eq", "value": value})
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else {"and": parts}
