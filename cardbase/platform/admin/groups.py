"""Groups: create, rename, delete (refused while rights refer to it, naming them) and
members. A name is used once, ignoring case."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from cardbase.schema_engine.accounts import groups as account_groups
from cardbase.schema_engine.errors import CardbaseError, NotFound

from ..context import current_actor, get_db
from ..web.errors import error_page
from . import bp
from .common import Problems, all_users, int_arg, status_of


@bp.route("/groups", methods=["GET", "POST"])
def groups():
    problems, values = Problems(), {}
    status = 200
    if request.method == "POST":
        values = {"name": request.form.get("name", ""), "description": request.form.get("description", "")}
        try:
            row = account_groups.create_group(get_db(), current_actor(), values["name"], values["description"])
        except CardbaseError as exc:
            problems.take(exc)
            status = status_of(exc)
        else:
            flash(_("Group %(name)s was created.", name=row.name), "success")
            return redirect(url_for("admin.group_edit", group_id=row.id))
    return render_template("admin/groups.html", groups=account_groups.list_groups(get_db()), problems=problems,
                           values=values, nav_active="groups"), status


def _render_group(group_id: int, problems: Problems | None = None, status: int = 200, values=None):
    db = get_db()
    try:
        with db.read() as conn:
            row = account_groups.resolve(conn, group_id)
    except NotFound as exc:
        return error_page(exc.message, 404)
    members = set(account_groups.group_members(db, group_id))
    return render_template("admin/group_edit.html", group=row, members=members, users=all_users(),
                           problems=problems or Problems(), values=values or {"name": row.name,
                                                                              "description": row.description},
                           nav_active="groups"), status


@bp.route("/groups/<int:group_id>", methods=["GET", "POST"])
def group_edit(group_id: int):
    if request.method == "GET":
        return _render_group(group_id)
    values = {"name": request.form.get("name", ""), "description": request.form.get("description", "")}
    try:
        account_groups.update_group(get_db(), current_actor(), group_id, name=values["name"],
                                    description=values["description"])
    except CardbaseError as exc:
        if isinstance(exc, NotFound):
            return error_page(exc.message, 404)
        return _render_group(group_id, Problems().take(exc), status_of(exc), values)
    flash(_("Saved."), "success")
    return redirect(url_for("admin.group_edit", group_id=group_id))


@bp.route("/groups/<int:group_id>/members", methods=["POST"])
def group_members(group_id: int):
    actor, db = current_actor(), get_db()
    user_id = int_arg(request.form.get("user"))
    try:
        if user_id is None:
            return _render_group(group_id, _problem("user", _("Choose a user.")), 422)
        if request.form.get("action") == "remove":
            account_groups.remove_member(db, actor, user_id, group_id)
        else:
            account_groups.add_member(db, actor, user_id, group_id)
    except CardbaseError as exc:
        return _render_group(group_id, Problems().take(exc), status_of(exc))
    return redirect(url_for("admin.group_edit", group_id=group_id))


@bp.route("/groups/<int:group_id>/delete", methods=["POST"])
def group_delete(group_id: int):
    try:
        account_groups.delete_group(get_db(), current_actor(), group_id, with_rights=False)
    except CardbaseError as exc:
        if isinstance(exc, NotFound):
            return error_page(exc.message, 404)
        return _render_group(group_id, Problems().take(exc), status_of(exc))
    flash(_("The group was deleted."), "success")
    return redirect(url_for("admin.groups"))


def _problem(key: str, message: str) -> Problems:
    problems = Problems()
    problems[key] = [message]
    return problems
