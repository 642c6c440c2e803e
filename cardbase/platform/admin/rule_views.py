"""Rule views: a saved filter that gives a group's members a level (read, change, full)
on the records it matches -- and, under the record scope "only matching rule views", is
all the group's object rights reach. Edited with the end-user lists' filter builder
(fields and link paths, operators by type, value pickers, "me"), with a live count of
the matching records and a preview of them with the fields the group may read: no admin
types JSON."""
from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from flask import flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l

from cardbase.schema_engine import rights
from cardbase.schema_engine.errors import CardbaseError, ValidationError
from cardbase.schema_engine.meta_models import Group
from cardbase.schema_engine.query.model import ListQuery
from cardbase.schema_engine.rights.models import LEVELS, FieldRight, RuleView
from cardbase.schema_engine.rights.stored_filter import to_named
from cardbase.schema_engine.snapshot import ObjectInfo

from cardbase.schema_engine.actor import Actor

from ..context import current_actor, engine_session, get_db, get_store
from ..i18n import current_language
from ..web import filter_form, filter_names
from ..web.errors import error_page
from . import bp
from .common import Problems, all_groups, int_arg, status_of

LEVEL_LABELS = {"read": _l("Read"), "change": _l("Change"), "full": _l("Full (change and delete)")}
PREVIEW_ROWS = 10
PREVIEW_COLUMNS = 5


@bp.route("/rule-views")
def rule_views():
    schema = get_db().schema()
    with get_db().read() as conn:
        rows = conn.execute(sa.select(RuleView.id, RuleView.name, RuleView.object_id, RuleView.level,
                                      RuleView.filter, Group.name.label("group"))
                            .join(Group, Group.id == RuleView.group_id).order_by(RuleView.object_id, RuleView.name)).all()
    views = []
    for r in rows:
        if not schema.has_object(r.object_id):
            continue
        obj = schema.object(r.object_id)
        try:
            tree, problem = to_named(schema, obj, r.filter), None
        except ValidationError as exc:
            tree, problem = None, exc.message
        views.append({"id": r.id, "name": r.name, "object": obj, "level": r.level, "group": r.group,
                      "filter": json.dumps(tree, ensure_ascii=False) if tree else "", "problem": problem})
    return render_template("admin/rule_views.html", views=views, objects=schema.objects, level_labels=LEVEL_LABELS,
                           nav_active="rule_views")


def _filter_from_form() -> tuple[Any, str | None]:
    text = request.form.get("filter", "").strip()
    if not text:
        return None, None
    try:
        return json.loads(text), None
    except ValueError:
        return None, _("The filter is not valid JSON.")


def _builder(obj: ObjectInfo, tree: Any = None) -> dict[str, Any]:
    """What the filter builder needs: every path of the object (the admin reads all), with
    the names of the records the filter chooses by id."""
    schema = get_db().schema()
    entries = filter_form.catalogue(schema, obj, lambda f: True, lambda o: True, current_language(),
                                    lambda name: name in _endpoints())
    labels = filter_form.operator_labels()
    wanted = filter_names.wanted_ids(entries, tree)
    names = filter_names.record_names(engine_session(), obj, wanted, current_language()) if wanted else {}
    return {"entries": filter_names.entries_json(entries, labels, names)}


def _endpoints():
    from flask import current_app

    return current_app.view_functions


def _preview(obj: ObjectInfo, tree: Any, group_id: int | None) -> dict[str, Any]:
    """How many records the filter matches, and the first of them with the fields the
    group may read (its hidden fields left out)."""
    s = engine_session()
    count, estimated = s.count(obj, filter=tree)
    hidden: set[int] = set()
    if group_id is not None:
        with get_db().read() as conn:
            hidden = set(conn.execute(sa.select(FieldRight.field_id).where(
                FieldRight.group_id == group_id, FieldRight.level == "hidden")).scalars())
    columns = [f for f in obj.user_fields if f.id not in hidden][:PREVIEW_COLUMNS]
    page = s.list(obj, ListQuery(filter=tree, limit=PREVIEW_ROWS, fields=["id"] + [f.api_name for f in columns]))
    rows = [{"id": r["id"], **{f.api_name: _text(r.get(f.api_name)) for f in columns}} for r in page.data]
    return {"count": count, "estimated": estimated, "columns": columns, "rows": rows,
            "group_sees": _group_sees(obj, group_id)}


def _group_sees(obj: ObjectInfo, group_id: int | None) -> int | None:
    """How many records of the object a member of only this group sees with the rights as
    saved now (no own records, no personal shares): the list as that group."""
    if group_id is None:
        return None
    member = Actor(user_id=None, username="preview", group_ids=frozenset({group_id}))
    with get_store().session(member) as s:
        if not s.can(obj, "read"):
            return 0
        return s.count(obj)[0]


def _text(value: Any) -> str:
    if value is None:
        return ""
    display = getattr(value, "display", None)
    if display is not None or hasattr(value, "restricted"):
        return str(display or "")
    return str(value)


def _render(obj: ObjectInfo, values: dict[str, Any], problems: Problems, status: int = 200,
            view_id: int | None = None, preview: dict | None = None):
    return render_template("admin/rule_view_edit.html", obj=obj, values=values, problems=problems, view_id=view_id,
                           groups=all_groups(), levels=LEVELS, level_labels=LEVEL_LABELS, preview=preview,
                           builder=_builder(obj, values.get("filter")),
                           filter_model=filter_form.builder_model(values.get("filter")),
                           nav_active="rule_views"), status


def _edit(obj: ObjectInfo, view_id: int | None, values: dict[str, Any]):
    problems = Problems()
    if request.method == "GET":
        return _render(obj, values, problems, view_id=view_id)
    values = {"name": request.form.get("name", ""), "group": int_arg(request.form.get("group")),
              "level": request.form.get("level", "read")}
    tree, bad_json = _filter_from_form()
    values["filter"] = tree
    if bad_json:
        problems["filter"] = [bad_json]
        return _render(obj, values, problems, 422, view_id)
    if request.form.get("action") == "preview":
        try:
            if tree is None:
                raise ValidationError({"filter": _("Add at least one condition.")})
            preview = _preview(obj, tree, values["group"])
        except CardbaseError as exc:
            return _render(obj, values, problems.take(exc), status_of(exc), view_id)
        return _render(obj, values, problems, 200, view_id, preview)
    if values["group"] is None:
        problems["group"] = [_("Choose the group this rule view gives access to.")]
        return _render(obj, values, problems, 422, view_id)
    try:
        saved = rights.save_rule_view(get_db(), current_actor(), values["group"], obj.id, values["name"], tree,
                                      values["level"], view_id=view_id)
    except CardbaseError as exc:
        return _render(obj, values, problems.take(exc), status_of(exc), view_id)
    flash(_("Rule view %(name)s was saved.", name=values["name"].strip()), "success")
    return redirect(url_for("admin.rule_view_edit", view_id=saved))


@bp.route("/rule-views/new/<object_name>", methods=["GET", "POST"])
def rule_view_new(object_name: str):
    schema = get_db().schema()
    if not schema.has_object(object_name):
        return error_page(_("There is no object %(name)s.", name=object_name), 404)
    return _edit(schema.object(object_name), None, {"name": "", "group": int_arg(request.args.get("group")),
                                                    "level": "read", "filter": None})


@bp.route("/rule-views/<int:view_id>", methods=["GET", "POST"])
def rule_view_edit(view_id: int):
    schema = get_db().schema()
    with get_db().read() as conn:
        row = conn.execute(sa.select(RuleView.__table__).where(RuleView.id == view_id)).first()
    if row is None or not schema.has_object(row.object_id):
        return error_page(_("There is no rule view %(id)s.", id=view_id), 404)
    obj = schema.object(row.object_id)
    try:
        tree = to_named(schema, obj, row.filter)
    except ValidationError:
        tree = None
    return _edit(obj, view_id, {"name": row.name, "group": row.group_id, "level": row.level, "filter": tree})


@bp.route("/rule-views/<int:view_id>/delete", methods=["POST"])
def rule_view_delete(view_id: int):
    try:
        rights.delete_rule_view(get_db(), current_actor(), view_id)
    except CardbaseError as exc:
        return error_page(exc.message, 404)
    flash(_("The rule view was deleted."), "success")
    return redirect(url_for("admin.rule_views"))


@bp.route("/rule-views/count/<object_name>")
def rule_view_count(object_name: str):
    """The live count beside the builder: how many records the filter matches now."""
    schema = get_db().schema()
    if not schema.has_object(object_name):
        return jsonify(error=_("There is no object %(name)s.", name=object_name)), 404
    try:
        tree = json.loads(request.args.get("filter") or "null")
        if tree is None:
            raise ValidationError({"filter": _("Add at least one condition.")})
        count, estimated = engine_session().count(schema.object(object_name), filter=tree)
    except ValueError:
        return jsonify(error=_("The filter is not valid JSON.")), 422
    except CardbaseError as exc:
        return jsonify(error=exc.message), 422
    return jsonify(count=count, estimated=estimated)
