"""The Flask app factory.

Every route needs a logged-in user unless its endpoint is in PUBLIC_ENDPOINTS: the check
runs before every request (and before the CSRF check), so a new blueprint that forgets
``@login_required`` is still closed to anonymous users.
"""
from __future__ import annotations

import logging
import random
import sqlite3
import time
from typing import Any, Mapping

import sqlalchemy as sa
from flask import Flask, Response, jsonify, render_template, request
from flask_bootstrap import Bootstrap5
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError, CSRFProtect

from cardbase import designer_ui
from cardbase.schema_engine.db import Database
from cardbase.schema_engine.field_types.datetime_type import display_timezone

from . import admin, api, auth, i18n, views, web
from . import automation_web, proxies
from .config import ensure_secret_key, load_config
from .context import abandon_session, actor_for, current_actor, get_db, install_engine
from .sessions import CookieSessionInterface

__all__ = ["PUBLIC_ENDPOINTS", "NotInitialised", "actor_for", "create_app", "current_actor", "get_db"]

# Endpoints anonymous users may reach. Public web forms will be added here explicitly.
# The API adds its token endpoint, OpenAPI document and reference page (api.PUBLIC_ENDPOINTS).
# Bootstrap's own CSS/JS (bootstrap.static) is served locally and styles the login page.
PUBLIC_ENDPOINTS = (frozenset({"auth.login", "core.health", "static", "bootstrap.static"}) | api.PUBLIC_ENDPOINTS
                    | admin.PUBLIC_ENDPOINTS
                    | automation_web.PUBLIC_ENDPOINTS)

# img-src allows data: URIs: Bootstrap draws select arrows and the menu icon as inline SVG
# images. Scripts and styles stay 'self' only: no inline script, no style attribute.
CONTENT_SECURITY_POLICY = ("default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'self'; "
                           "form-action 'self'; frame-ancestors 'none'")
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Referrer-Policy": "same-origin",
}

csrf = CSRFProtect()
bootstrap = Bootstrap5()


class NotInitialised(RuntimeError):
    """The database has no cardbase system tables yet."""


def create_app(config: Mapping[str, Any] | None = None, db: Database | None = None) -> Flask:
    """Build the app. ``config`` overrides Flask settings (tests: WTF_CSRF_ENABLED,
    SECRET_KEY); ``db`` is used instead of opening
    CARDBASE_DATABASE_URL. The database must have been initialised (``cardbase init``)."""
    settings = load_config()
    app = Flask(__name__)
    app.session_interface = CookieSessionInterface()  # no signing work for cookie-less (API) requests
    app.config.from_mapping(
        CARDBASE_DATABASE_URL=settings.database_url,
        CARDBASE_PHONE_REGION=settings.phone_region,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        # Secure (HTTPS only) when CARDBASE_SECURE_COOKIES=true; the session cookie is also
        # Secure whenever the request itself came over HTTPS (sessions.CookieSessionInterface).
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        REMEMBER_COOKIE_SECURE=settings.secure_cookies,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        WTF_CSRF_TIME_LIMIT=None,  # the token is bound to the session; no expiry mid-form
        MAX_CONTENT_LENGTH=32 * 1024 * 1024,
        BOOTSTRAP_SERVE_LOCAL=True,  # Bootstrap from the bootstrap-flask package, never a CDN
        CARDBASE_TIMEZONE=str(display_timezone()),
    )
    app.config.update(config or {})
    if db is None:
        db = Database(app.config["CARDBASE_DATABASE_URL"])
    _check_initialised(db)
    install_engine(app, db)
    _retry_transient_failures(app)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = settings.secret_key or ensure_secret_key(db)

    # The login guard goes first: anonymous requests are refused before CSRF is checked.
    app.before_request(_require_login)
    auth.login_manager.init_app(app)
    csrf.init_app(app)
    bootstrap.init_app(app)
    i18n.init_app(app)
    app.jinja_env.globals["has_endpoint"] = lambda endpoint: endpoint in app.view_functions
    app.register_blueprint(auth.bp)
    app.register_blueprint(views.bp)
    web.init_app(app)
    admin.init_app(app)  # users, groups, rights; own password and tokens; invitations; view as
    web.errors.install(app)  # styled 403/404/405/500 pages for every blueprint
    designer_ui.init_app(app)
    api.init_app(app, csrf)  # /api: bearer tokens (so no CSRF), JSON errors
    automation_web.init_app(app, csrf)  # the bell, tasks and activity on cards, public web forms /f/<slug>
    app.after_request(_security_headers)
    proxies.install(app)  # CARDBASE_TRUSTED_PROXIES: the visitor's address from X-Forwarded-For
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(sa.exc.OperationalError, _busy)
    app.register_error_handler(sqlite3.OperationalError, _busy)
    return app


# PostgreSQL aborts one of two transactions that wait for each other (deadlock detected,
# 40P01) or that cannot be serialised (40001). Neither wrote anything (the request's session
# rolls back), so the whole view runs again, a few times, after a short random pause.
RETRY_SQLSTATES = frozenset({"40P01", "40001"})
RETRIES = 4
log = logging.getLogger(__name__)


def transient(exc: BaseException) -> bool:
    """Whether ``exc`` is a deadlock or serialisation failure the database reported."""
    orig = getattr(exc, "orig", None)
    return isinstance(exc, sa.exc.DBAPIError) and getattr(orig, "sqlstate", None) in RETRY_SQLSTATES


def _retry_transient_failures(app: Flask) -> None:
    dispatch = app.dispatch_request

    def dispatch_request() -> Any:
        for attempt in range(RETRIES + 1):
            try:
                return dispatch()
            except sa.exc.DBAPIError as exc:
                if attempt == RETRIES or not transient(exc):
                    raise
                log.info("%s %s: %s, running it again", request.method, request.path, exc.orig.__class__.__name__)
            abandon_session()
            time.sleep(random.uniform(0, 0.01 * 2 ** attempt))
        raise AssertionError("unreachable")  # pragma: no cover

    app.dispatch_request = dispatch_request


def _check_initialised(db: Database) -> None:
    with db.engine.connect() as conn:
        if not sa.inspect(conn).has_table("cb_meta_state"):
            raise NotInitialised(
                f"the database {db.engine.url.render_as_string(hide_password=True)} is not initialised: "
                "run `cardbase init` first")


def _require_login() -> Response | None:
    if request.endpoint is None or request.endpoint in PUBLIC_ENDPOINTS:
        return None  # unknown URLs get their 404/405; public endpoints are open
    if request.endpoint in api.SESSION_OR_TOKEN_ENDPOINTS:
        return None if api.optional_actor() is not None else api.errors.error_response(
            401, "unauthorized", "sign in or send a bearer token to read the API description")
    if request.blueprint == api.bp.name:
        return api.require_token()  # the API takes bearer tokens, never the session cookie
    if current_user.is_authenticated:
        return None
    if request.method in ("GET", "HEAD"):
        return auth.login_redirect()
    response = jsonify(error="Unauthorized", message="log in first")
    response.status_code = 401
    return response


def _security_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def _csrf_error(error: CSRFError):
    return render_template("error.html", title=_("Form expired"),
                           message=_("The form was too old or did not come from this site "
                                     "(its security token is missing or wrong). Reload the page and try again.")), 400


def _busy(error: Exception):
    """A long change (a solution import, a type change) held the database longer than this
    request would wait: a 503 page saying so, never a 500 (the API answers the same in JSON)."""
    if not api.errors.is_lock_timeout(error):
        raise error
    page = render_template("error.html", title=_("Busy"),
                           message=_("The database is busy with a long change. Nothing was saved: try again in a "
                                     "few seconds."))
    return page, 503, {"Retry-After": str(api.errors.RETRY_AFTER_LOCKED)}
