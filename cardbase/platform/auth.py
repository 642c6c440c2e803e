"""Login and logout (Flask-Login sessions, Flask-WTF forms with CSRF).

Each login is a server-side session (``cb_login_session``, ``accounts.users``): the
cookie keeps only its random secret, the user loader reads session, user and groups in
one read transaction, and logout revokes the session on the server, so a copy of the
cookie opens nothing afterwards. A new password, a reset, a deactivation and a
reactivation revoke all of the user's sessions.

Failed logins are throttled in the database (``accounts.throttle``): the page then
answers 429 with Retry-After, says "too many attempts, try again in N minutes" whether
or not the name exists, and never sleeps in the worker thread.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Response, flash, redirect, render_template, request, session, url_for
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

    def __init__(self, row, group_ids: frozenset[int] | None = None, session_secret: str = ""):
        self.row = row
        self.session_secret = session_secret  # what the cookie keeps: the login session's secret
        self.group_ids = group_ids  # read with the row (None: not known yet)
        self.id = row.id
        self.username = row.username
        self.display_name = row.display_name or row.username
        self.is_admin = bool(row.is_admin)

    @property
    def is_active(self) -> bool:
        return bool(self.row.active)

    def get_id(self) -> str:
        return self.session_secret


@login_manager.user_loader
def _load_user(session_secret: str) -> LoginUser | None:
    found = users.user_for_session(get_db(), session_secret)
    return LoginUser(*found, session_secret=session_secret) if found is not None else None


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
        try:
            row = users.authenticate(db, form.username.data, form.password.data, address=request.remote_addr)
        except users.LoginThrottled as exc:
            minutes = max(1, -(-exc.retry_after // 60))
            error = (_("Too many attempts, try again in a minute.") if minutes == 1
                     else _("Too many attempts, try again in %(n)s minutes.", n=minutes))
            return (render_template("login.html", form=form, error=error), 429,
                    {"Retry-After": str(exc.retry_after)})
        if row is not None:
            session.clear()  # nothing from before the login survives into the session
            login_user(LoginUser(row, session_secret=users.start_session(db, row)))
            return redirect(target)
        error = _("Wrong username or password.")
    elif request.method == "POST":
        error = _("Enter your username and password.")
    return render_template("login.html", form=form, error=error)


@bp.route("/logout", methods=["POST"])
def logout():
    if current_user.is_authenticated:
        users.end_session(get_db(), current_user.get_id())
    logout_user()
    session.clear()
    flash(_("You have been logged out."), "info")
    return redirect(url_for("auth.login"))
