"""The rights matrix of a group (the eight object rights and the record scope per object)
and the field rights grid of an object (fields x groups), plus which link an object takes
its record access from. Each form carries the fingerprint of what it showed: saving after
another admin changed the same rights is refused (409) and shows their version."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l

from cardbase.schema_engine.errors import CardbaseError, NotFound
from cardbase.schema_engine.rights.models import FIELD_LEVELS, OBJECT_RIGHTS, RECORD_SCOPES
from cardbase.schema_engine.rights.scopes import (field_grid, group_matrix, save_field_grid, save_group_matrix,
                                                  set_parent_access)

from ..context import current_actor, get_db
from ..web.errors import error_page
from . import bp
from .common import Problems, all_groups, status_of

RIGHT_LABELS = {"read": _l("Read"), "create": _l("Create"), "edit": _l("Edit"), "delete": _l("Delete"),
                "export": _l("Export"), "print": _l("Print"), "report": _l("Report"), "configure": _l("Configure")}
SCOPE_LABELS = {"all": _l("All records"), "own_and_shared": _l("Own and shared"),
                "rule_views": _l("Only matching rule views"), "none": _l("None")}
LEVEL_LABELS = {"hidden": _l("Hidden"), "read_only": _l("Read only"), "editable": _l("Editable")}


@bp.route("/rights")
def rights_index():
    db = get_db()
    return render_template("admin/rights_index.html", groups=all_groups(), objects=db.schema().objects,
                           nav_active="rights")


def _render_matrix(group_id: int, problems: Problems | None = None, status: int = 200):
    try:
        matrix = group_matrix(get_db(), group_id)
    except CardbaseError as exc:
        return error_page(exc.message, 404)
    return render_template("admin/rights_matrix.html", matrix=matrix, rights=OBJECT_RIGHTS, scopes=RECORD_SCOPES,
                           right_labels=RIGHT_LABELS, scope_labels=SCOPE_LABELS, problems=problems or Problems(),
                           nav_active="rights"), status


@bp.route("/groups/<int:group_id>/rights", methods=["GET", "POST"])
def rights_matrix(group_id: int):
    if request.method == "GET":
        return _render_matrix(group_id)
    rows = {}
    for obj in get_db().schema().objects:
        if f"s-{obj.id}" not in request.form:
            continue  # an object created after the form was shown: left as it is
        rows[obj.id] = {"rights": [r for r in OBJECT_RIGHTS if request.form.get(f"r-{obj.id}-{r}")],
                        "scope": request.form.get(f"s-{obj.id}") or None}
    try:
        changed = save_group_matrix(get_db(), current_actor(), group_id, rows, request.form.get("fingerprint"))
    except CardbaseError as exc:
        if isinstance(exc, NotFound):
            return error_page(exc.message, 404)
        return _render_matrix(group_id, Problems().take(exc), status_of(exc))
    flash(_("Saved: %(n)s objects changed.", n=changed), "success")
    return redirect(url_for("admin.rights_matrix", group_id=group_id))


def _render_fields(object_name: str, problems: Problems | None = None, status: int = 200):
    try:
        grid = field_grid(get_db(), object_name)
    except CardbaseError as exc:
        return error_page(exc.message, 404)
    obj = grid["object"]
    links = [f for f in obj.user_fields if f.type == "link"]
    from cardbase.schema_engine.rights.scopes import parent_links

    with get_db().read() as conn:
        parent = parent_links(conn).get(obj.id)
    return render_template("admin/field_rights.html", grid=grid, obj=obj, levels=FIELD_LEVELS,
                           level_labels=LEVEL_LABELS, links=links, parent=parent, problems=problems or Problems(),
                           nav_active="rights"), status


@bp.route("/objects/<object_name>/fields", methods=["GET", "POST"])
def field_rights(object_name: str):
    if request.method == "GET":
        return _render_fields(object_name)
    schema = get_db().schema()
    if not schema.has_object(object_name):
        return error_page(_("There is no object %(name)s.", name=object_name), 404)
    obj = schema.object(object_name)
    levels = {}
    for group in all_groups():
        for field in obj.user_fields:
            key = f"l-{group.id}-{field.id}"
            if key in request.form:
                levels[(group.id, field.stored_id)] = request.form.get(key) or None
    try:
        changed = save_field_grid(get_db(), current_actor(), obj.id, levels, request.form.get("fingerprint"))
    except CardbaseError as exc:
        return _render_fields(object_name, Problems().take(exc), status_of(exc))
    flash(_("Saved: %(n)s field rights changed.", n=changed), "success")
    return redirect(url_for("admin.field_rights", object_name=object_name))


@bp.route("/objects/<object_name>/parent", methods=["POST"])
def parent_access(object_name: str):
    try:
        set_parent_access(get_db(), current_actor(), object_name, request.form.get("field") or None)
    except CardbaseError as exc:
        if isinstance(exc, NotFound):
            return error_page(exc.message, 404)
        return _render_fields(object_name, Problems().take(exc), status_of(exc))
    flash(_("Saved."), "success")
    return redirect(url_for("admin.field_rights", object_name=object_name))
