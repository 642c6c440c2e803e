"""The Flask app factory.

Every route needs a logged-in user unless its endpoint is in PUBLIC_ENDPOINTS: the check
runs before every request (and before the CSRF check), so a new blueprint that forgets
``@login_required`` is still closed to anonymous users.
"""
from __future__ import annotations

import time
from typing import Any, Mapping

import sqlalchemy as sa
from flask import Flask, Response, jsonify, render_template, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError, CSRFProtect

from cardbase.schema_engine.db import Database

from . import api, auth, views
from .config import ensure_secret_key, load_config
from .context import actor_for, current_actor, get_db

__all__ = ["PUBLIC_ENDPOINTS", "NotInitialised", "actor_for", "create_app", "current_actor", "get_db"]

# Endpoints anonymous users may reach. Public web forms will be added here explicitly.
# The API adds its token endpoint, OpenAPI document and reference page (api.PUBLIC_ENDPOINTS).
PUBLIC_ENDPOINTS = frozenset({"auth.login", "core.health", "static"}) | api.PUBLIC_ENDPOINTS

CONTENT_SECURITY_POLICY = ("default-src 'self'; object-src 'none'; base-uri 'self'; "
                           "form-action 'self'; frame-ancestors 'none'")
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Referrer-Policy": "same-origin",
}

csrf = CSRFProtect()


class NotInitialised(RuntimeError):
    """The database has no cardbase system tables yet."""


def create_app(config: Mapping[str, Any] | None = None, db: Database | None = None) -> Flask:
    """Build the app. ``config`` overrides Flask settings (tests: WTF_CSRF_ENABLED,
    SECRET_KEY, CARDBASE_LOGIN_SLEEP); ``db`` is used instead of opening
    CARDBASE_DATABASE_URL. The database must have been initialised (``cardbase init``)."""
    settings = load_config()
    app = Flask(__name__)
    app.config.from_mapping(
        CARDBASE_DATABASE_URL=settings.database_url,
        CARDBASE_PHONE_REGION=settings.phone_region,
        CARDBASE_LOGIN_SLEEP=time.sleep,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        WTF_CSRF_TIME_LIMIT=None,  # the token is bound to the session; no expiry mid-form
        MAX_CONTENT_LENGTH=32 * 1024 * 1024,
    )
    app.config.update(config or {})
    if db is None:
        db = Database(app.config["CARDBASE_DATABASE_URL"])
    _check_initialised(db)
    app.extensions["cardbase"] = db
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = settings.secret_key or ensure_secret_key(db)

    # The login guard goes first: anonymous requests are refused before CSRF is checked.
    app.before_request(_require_login)
    auth.login_manager.init_app(app)
    csrf.init_app(app)
    app.register_blueprint(auth.bp)
    app.register_blueprint(views.bp)
    api.init_app(app, csrf)  # /api: bearer tokens (so no CSRF), JSON errors
    app.after_request(_security_headers)
    app.register_error_handler(CSRFError, _csrf_error)
    return app


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
    return render_template("error.html", title="Form expired",
                           message="The form was too old or did not come from this site "
                                   "(its security token is missing or wrong). Reload the page and try again."), 400
