"""Invitation links: an admin creates a user without a password and sends a link with
which the user sets their own. The link is signed with the app's secret key and carries
the user's credentials epoch, so it works once (setting the password moves the epoch)
and for INVITATION_DAYS; no table is needed."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from cardbase.schema_engine.accounts import users as accounts
from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.errors import CardbaseError

from ..context import get_db
from ..web.errors import error_page
from .common import Problems, status_of

bp = Blueprint("invitation", __name__, template_folder="templates")
INVITATION_DAYS = 7
_SALT = "cardbase-invitation"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=_SALT)


def invitation_link(user) -> str:
    """An absolute link that lets ``user`` set a password once."""
    token = _serializer().dumps({"u": user.id, "e": user.credentials_epoch or 0})
    return url_for("invitation.accept", token=token, _external=True)


def _user_for(token: str):
    try:
        data = _serializer().loads(token, max_age=INVITATION_DAYS * 86400)
    except SignatureExpired:
        return None, _("This invitation has expired: ask your administrator for a new one.")
    except BadSignature:
        return None, _("This invitation link is not valid.")
    row = accounts.get_user(get_db(), int(data.get("u", 0))) if isinstance(data, dict) else None
    if row is None or not row.active or (row.credentials_epoch or 0) != data.get("e"):
        return None, _("This invitation was already used or withdrawn: ask your administrator for a new one.")
    return row, None


@bp.route("/invite/<token>", methods=["GET", "POST"])
def accept(token: str):
    row, problem = _user_for(token)
    if row is None:
        return error_page(problem, 400, _("Invitation"))
    problems = Problems()
    if request.method == "POST":
        password = request.form.get("password", "")
        if password != request.form.get("confirm", ""):
            problems["confirm"] = [_("The two passwords differ.")]
        else:
            try:
                accounts.set_password(get_db(), SYSTEM, row.id, password)
            except CardbaseError as exc:
                problems.take(exc)
                return render_template("admin/invitation.html", user=row, problems=problems), status_of(exc)
            flash(_("Your password is set: log in with it."), "success")
            return redirect(url_for("auth.login"))
        return render_template("admin/invitation.html", user=row, problems=problems), 422
    return render_template("admin/invitation.html", user=row, problems=problems)
