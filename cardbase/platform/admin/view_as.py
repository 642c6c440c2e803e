"""Opening the lists "as that user": an admin sees the screens with exactly that user's
rights, read-only. While it lasts every page carries a banner saying so with a way back,
every change is refused (403) before it reaches a view, and the start is logged in the
configuration log. ``context.current_actor`` reads the marker this module keeps in the
session."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, Flask, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user

from cardbase.schema_engine.accounts import users as accounts
from cardbase.schema_engine.meta_models import ConfigChange

from cardbase.schema_engine.accounts.policy import ADMIN

from ..context import VIEW_AS_KEY, actor_for, get_db
from ..web.errors import error_page

bp = Blueprint("view_as", __name__)
ALLOWED_WHILE_VIEWING = frozenset({"view_as.stop", "auth.logout", "static", "bootstrap.static"})


@bp.route("/admin/view-as", methods=["POST"])
def start():
    if not (current_user.is_authenticated and ADMIN.is_admin(actor_for(current_user.row,
                                                                         group_ids=current_user.group_ids))):
        return error_page(_("Only administrators may open the administration."), 403)
    try:
        user_id = int(request.form.get("user", ""))
    except ValueError:
        return error_page(_("Choose a user."), 400)
    user = accounts.get_user(get_db(), user_id)
    if user is None or not user.active:
        return error_page(_("There is no active user with id %(id)s.", id=user_id), 404)
    with get_db().write() as conn:
        conn.execute(sa.insert(ConfigChange).values(actor_id=current_user.row.id, action="admin.view_as",
                                                    target=user.username[:200],
                                                    details={"user": user.id, "read_only": True}))
    session[VIEW_AS_KEY] = user.id
    flash(_("You now see cardbase as %(name)s, read-only.", name=user.display_name or user.username), "info")
    return redirect(url_for("core.home"))


@bp.route("/admin/view-as/stop", methods=["POST"])
def stop():
    session.pop(VIEW_AS_KEY, None)
    return redirect(url_for("admin.explain"))


def _read_only_guard():
    """While viewing as someone, only reading: every other method is refused."""
    if VIEW_AS_KEY not in session or request.method in ("GET", "HEAD", "OPTIONS"):
        return None
    if request.endpoint in ALLOWED_WHILE_VIEWING or (request.blueprint or "") == "api":
        return None
    return error_page(_("You are viewing cardbase as another user, read-only: nothing can be changed. "
                        "Stop viewing as them first."), 403, _("Read-only"))


def _banner_context():
    if VIEW_AS_KEY not in session or not current_user.is_authenticated:
        return {}
    user = accounts.get_user(get_db(), session[VIEW_AS_KEY])
    return {"view_as_user": user}


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.before_request(_read_only_guard)
    app.context_processor(_banner_context)
