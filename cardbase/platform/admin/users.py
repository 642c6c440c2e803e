"""Users: the list, creating one (with a first password, or an invitation link that lets
them set it), editing profile, admin flag and groups, deactivating and reactivating (their
sessions and tokens end at once), resetting a password and lifting a login lock.

Every change goes to ``schema_engine.accounts`` with the acting admin: the last admin
cannot be deactivated or demoted, nobody deactivates themselves, and a refusal is shown
under the input it is about, with nothing changed."""
from __future__ import annotations

import secrets
from collections import defaultdict
from typing import Any

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from cardbase.schema_engine.accounts import groups as account_groups, users as accounts
from cardbase.schema_engine.accounts import throttle
from cardbase.schema_engine.errors import CardbaseError, NotFound
from cardbase.schema_engine.meta_models import User, UserGroup, utcnow
from cardbase.schema_engine.token_models import LoginFailure

from ..context import current_actor, get_db
from ..i18n import LANGUAGE_NAMES
from ..web.errors import error_page
from . import bp
from .common import Problems, all_groups, checked, status_of
from .invitation import invitation_link


@bp.route("/")
def index():
    return redirect(url_for("admin.users"))


def _locked_names() -> set[str]:
    """Names held back by the login throttle now (one grouped query for the whole list)."""
    f = LoginFailure.__table__
    with get_db().read() as conn:
        rows = conn.execute(sa.select(f.c.name).where(f.c.at >= utcnow() - throttle.MEMORY)
                            .group_by(f.c.name).having(sa.func.count() >= throttle.FREE_FAILURES)).scalars()
        return set(rows)


@bp.route("/users")
def users():
    with get_db().read() as conn:
        rows = conn.execute(sa.select(User.__table__).order_by(User.username)).all()
        memberships = conn.execute(sa.select(UserGroup.user_id, UserGroup.group_id)).all()
    names = {g.id: g.name for g in all_groups()}
    of_user: dict[int, list[str]] = defaultdict(list)
    for user_id, group_id in memberships:
        of_user[user_id].append(names.get(group_id, "?"))
    locked = _locked_names()
    people = [{"row": r, "groups": sorted(of_user[r.id]), "locked": throttle.key_of(r.username) in locked}
              for r in rows]
    return render_template("admin/users.html", people=people, nav_active="users")


def _form_values() -> dict[str, Any]:
    return {"username": request.form.get("username", "").strip(),
            "display_name": request.form.get("display_name", "").strip(),
            "email": request.form.get("email", "").strip(),
            "language": request.form.get("language", "en"),
            "is_admin": checked("is_admin"),
            "groups": {int(g) for g in request.form.getlist("groups") if g.isdigit()},
            "password_mode": request.form.get("password_mode", "password"),
            "password": request.form.get("password", "")}


@bp.route("/users/new", methods=["GET", "POST"])
def user_new():
    values: dict[str, Any] = {"language": "en", "groups": set(), "password_mode": "password"}
    problems = Problems()
    if request.method == "POST":
        values = _form_values()
        invite = values["password_mode"] == "invite"
        # An invited user gets a random password nobody knows until they set their own.
        password = secrets.token_urlsafe(24) + "Aa1!" if invite else values["password"]
        try:
            row = accounts.create_user(get_db(), current_actor(), values["username"], password,
                                       display_name=values["display_name"], email=values["email"],
                                       is_admin=values["is_admin"], language=values["language"])
        except CardbaseError as exc:
            problems.take(exc)
            return _render_new(values, problems, status_of(exc))
        for gid in sorted(values["groups"]):
            account_groups.add_member(get_db(), current_actor(), row.id, gid)
        if invite:
            flash(_("User %(name)s was created. Send them this invitation link (valid for 7 days) to set their "
                    "password: %(link)s", name=row.username, link=invitation_link(row)), "success")
        else:
            flash(_("User %(name)s was created.", name=row.username), "success")
        return redirect(url_for("admin.user_edit", user_id=row.id))
    return _render_new(values, problems, 200)


def _render_new(values, problems, status):
    return render_template("admin/user_new.html", values=values, problems=problems, groups=all_groups(),
                           languages=LANGUAGE_NAMES, nav_active="users"), status


def _user(user_id: int):
    row = accounts.get_user(get_db(), user_id)
    if row is None:
        raise NotFound(_("There is no user with id %(id)s.", id=user_id))
    return row


def _render_edit(row, problems=None, status=200, values=None):
    member_of = set(accounts.group_ids(get_db(), row.id))
    values = values or {"display_name": row.display_name, "email": row.email, "language": row.language or "en",
                        "is_admin": bool(row.is_admin), "groups": member_of}
    return render_template("admin/user_edit.html", user=row, values=values, problems=problems or Problems(),
                           groups=all_groups(), languages=LANGUAGE_NAMES, nav_active="users",
                           locked=accounts.is_throttled(get_db(), row),
                           is_self=row.id == current_actor().user_id), status


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def user_edit(user_id: int):
    try:
        row = _user(user_id)
    except NotFound as exc:
        return error_page(exc.message, 404)
    if request.method == "GET":
        return _render_edit(row)
    values = _form_values()
    actor, db = current_actor(), get_db()
    try:
        accounts.update_user(db, actor, row.id, display_name=values["display_name"], email=values["email"],
                             language=values["language"], is_admin=values["is_admin"])
    except CardbaseError as exc:
        return _render_edit(row, Problems().take(exc), status_of(exc), values)
    before = set(accounts.group_ids(db, row.id))
    for gid in sorted(values["groups"] - before):
        account_groups.add_member(db, actor, row.id, gid)
    for gid in sorted(before - values["groups"]):
        account_groups.remove_member(db, actor, row.id, gid)
    flash(_("Saved."), "success")
    return redirect(url_for("admin.user_edit", user_id=row.id))


@bp.route("/users/<int:user_id>/active", methods=["POST"])
def user_active(user_id: int):
    try:
        row = _user(user_id)
        active = request.form.get("active") == "1"
        accounts.update_user(get_db(), current_actor(), row.id, active=active)
    except CardbaseError as exc:
        if isinstance(exc, NotFound):
            return error_page(exc.message, 404)
        return _render_edit(row, Problems().take(exc), status_of(exc))
    flash(_("%(name)s was reactivated.", name=row.username) if active else
          _("%(name)s was deactivated: their sessions and API tokens ended.", name=row.username), "success")
    return redirect(url_for("admin.user_edit", user_id=row.id))


@bp.route("/users/<int:user_id>/password", methods=["POST"])
def user_password(user_id: int):
    try:
        row = _user(user_id)
    except NotFound as exc:
        return error_page(exc.message, 404)
    try:
        accounts.set_password(get_db(), current_actor(), row.id, request.form.get("password", ""))
    except CardbaseError as exc:
        return _render_edit(row, Problems().take(exc), status_of(exc))
    flash(_("The password of %(name)s was reset; their sessions ended.", name=row.username), "success")
    return redirect(url_for("admin.user_edit", user_id=row.id))


@bp.route("/users/<int:user_id>/unlock", methods=["POST"])
def user_unlock(user_id: int):
    try:
        row = accounts.unlock_user(get_db(), current_actor(), user_id)
    except NotFound as exc:
        return error_page(exc.message, 404)
    flash(_("%(name)s may log in again.", name=row.username), "success")
    return redirect(url_for("admin.user_edit", user_id=row.id))


@bp.route("/users/<int:user_id>/invite", methods=["POST"])
def user_invite(user_id: int):
    try:
        row = _user(user_id)
    except NotFound as exc:
        return error_page(exc.message, 404)
    flash(_("Invitation link for %(name)s (valid for 7 days, once): %(link)s", name=row.username,
            link=invitation_link(row)), "success")
    return redirect(url_for("admin.user_edit", user_id=row.id))
