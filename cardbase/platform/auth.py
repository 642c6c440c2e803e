"""Login and logout (Flask-Login sessions, Flask-WTF forms with CSRF).

The session stores the user id plus the user's credentials epoch (``accounts.users``), so
changing or resetting a password ends every other session of that user, while a login
that only re-hashes the password ends none; deactivated users are logged out on their
next request.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from . import users
from .context import get_db

bp = Blueprint("auth", __name__)
login_manager = LoginManager()
login_manager.login_view = "auth.login"


class LoginUser(UserMixin):
    """The logged-in user as Flask-Login sees it; ``row`` is the cb_user row."""

    def __init__(self, row, group_ids: frozenset[int] | None = None):
        self.row = row
        self.group_ids = group_ids  # read with the row (None: not known yet)
        self.id = row.id
        self.username = row.username
        self.display_name = row.display_name or row.username
        self.is_admin = bool(row.is_admin)

    @property
    def is_active(self) -> bool:
        return bool(self.row.active)

    def get_id(self) -> str:
        return users.session_key(self.row)


@login_manager.user_loader
def _load_user(session_id: str) -> LoginUser | None:
    found = users.user_for_session(get_db(), session_id)
    return LoginUser(*found) if found is not None else None


def login_redirect() -> Response:
    """Where an anonymous request goes: the login page, remembering the local path."""
    target = request.full_path if request.query_string else request.path
    return redirect(url_for("auth.login", next=target))


login_manager.unauthorized_handler(login_redirect)


def is_safe_next(target: str | None) -> bool:
    """Only local paths ("/x?y"): never another host, scheme or protocol-relative URL."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return False
    if any(ord(c) < 32 or c == "\\" for c in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=150)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=users.MAX_PASSWORD)])


@bp.route("/login", methods=["GET", "POST"])
def login():
    target = request.args.get("next")
    target = target if is_safe_next(target) else url_for("core.home")
    if current_user.is_authenticated:
        return redirect(target)
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        db = get_db()
        row = users.authenticate(db, form.username.data, form.password.data,
                                 sleep=current_app.config["CARDBASE_LOGIN_SLEEP"])
        if row is not None:
            session.clear()  # nothing from before the login survives into the session
            login_user(LoginUser(row))
            return redirect(target)
        known = users.find_user(db, form.username.data)
        if known is not None and users.is_locked(known):
            error = _("Too many failed attempts: this account is locked for a few minutes. "
                      "Try again later.")
        else:
            error = _("Wrong username or password.")
    elif request.method == "POST":
        error = _("Enter your username and password.")
    return render_template("login.html", form=form, error=error)


@bp.route("/logout", methods=["POST"])
def logout():
    logout_user()
    session.clear()
    flash(_("You have been logged out."), "info")
    return redirect(url_for("auth.login"))
