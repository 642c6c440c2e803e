"""Every user's own password and personal API tokens (create with a name and an expiry,
see when each was last used, revoke). The account services check that a user changes
only their own (with their current password) and refuse bad input naming the field."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from cardbase.schema_engine.accounts import tokens, users as accounts
from cardbase.schema_engine.errors import CardbaseError, NotFound

from ..context import current_actor, get_db
from .common import Problems, status_of

bp = Blueprint("own_account", __name__, template_folder="templates")


def _render(problems: Problems | None = None, status: int = 200, new_token: dict | None = None):
    actor = current_actor()
    return render_template("admin/own_account.html", tokens=tokens.list_tokens(get_db(), actor),
                           problems=problems or Problems(), new_token=new_token,
                           values=request.form if request.method == "POST" else {}), status


@bp.route("/account")
def page():
    return _render()


@bp.route("/account/password", methods=["POST"])
def change_password():
    problems = Problems()
    new = request.form.get("password", "")
    if new != request.form.get("confirm", ""):
        problems["confirm"] = [_("The two passwords differ.")]
        return _render(problems, 422)
    try:
        accounts.set_password(get_db(), current_actor(), current_actor().user_id, new,
                              current_password=request.form.get("current_password", ""))
    except CardbaseError as exc:
        return _render(problems.take(exc), status_of(exc))
    flash(_("Your password was changed. Log in again with the new one."), "success")
    return redirect(url_for("auth.login"))


@bp.route("/account/tokens", methods=["POST"])
def create_token():
    expires = request.form.get("expires", "").strip()
    try:
        token = tokens.create_personal_token(get_db(), current_actor(), request.form.get("name", ""),
                                             f"{expires}T23:59:59Z" if expires else None)
    except CardbaseError as exc:
        problems = Problems().take(exc)
        if "expires_at" in problems:
            problems["expires"] = problems.pop("expires_at")
        return _render(problems, status_of(exc))
    return _render(new_token=token, status=201)


@bp.route("/account/tokens/<int:token_id>/revoke", methods=["POST"])
def revoke_token(token_id: int):
    try:
        tokens.revoke_token(get_db(), current_actor(), token_id)
    except NotFound as exc:
        return _render(Problems().take(exc), 404)
    flash(_("The token was revoked."), "success")
    return redirect(url_for("own_account.page"))
