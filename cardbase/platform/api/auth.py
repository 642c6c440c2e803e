"""Authentication of API requests and the token endpoints.

Every API request except the public ones (the token endpoint, the OpenAPI document and
the reference page) must send ``Authorization: Bearer <token>``; the app's login guard
calls ``require_token`` for the API blueprint, so no API route can forget it. Browser
session cookies are *not* accepted by the API (it is exempt from CSRF because it takes
bearer tokens only); the public OpenAPI document and reference page also honour the
browser session, to show a logged-in user the objects they may read.
"""
from __future__ import annotations

from flask import Response, current_app, g, request
from flask_login import current_user

from cardbase.schema_engine.actor import Actor
from cardbase.schema_engine.errors import ValidationError

from .. import users
from ..context import actor_for, end_read_transaction, get_db, request_read_transaction
from . import tokens
from .blueprint import bp
from .errors import ApiError, from_api_error
from .http import MAX_SMALL_ID, arg_int, json_object, json_response, no_content, small_id

READS_IN_ONE_TRANSACTION = frozenset({"GET", "HEAD"})
UNAUTHORIZED = ("send a token: 'Authorization: Bearer <token>' (get one from POST /api/v1/auth/token "
                "or create a personal token)")


def _bearer() -> str | None:
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, secret = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise ApiError(401, "the Authorization header must be 'Bearer <token>'", code="unauthorized",
                       headers={"WWW-Authenticate": 'Bearer realm="cardbase"'})
    return secret.strip()


def _authenticate(secret: str) -> Actor:
    db = get_db()
    if request.method in READS_IN_ONE_TRANSACTION:
        # The token is checked in the request's read transaction, which the view's engine
        # session goes on in: one transaction per GET, not one for the token and one for
        # the view.
        found = tokens.authenticate(db, secret, conn=request_read_transaction())
        if found.touch_due:  # once per token every TOUCH_EVERY
            end_read_transaction()
            tokens.touch(db, found.token_id)
    else:
        found = tokens.authenticate(db, secret)
    user = found.user
    # What context.actor_for builds for the browser, with the groups read in the token's
    # query (a test checks the two agree).
    actor = Actor(user_id=user.id, username=user.username, group_ids=found.group_ids, is_admin=bool(user.is_admin),
                  language=user.language or "en")
    g.cardbase_actor = actor
    g.api_token_id = found.token_id
    g.api_user = found.user
    return actor


def require_token() -> Response | None:
    """The login guard of the API blueprint: a JSON 401 unless a valid bearer token came."""
    try:
        secret = _bearer()
        if secret is None:
            raise ApiError(401, UNAUTHORIZED, code="unauthorized", headers={"WWW-Authenticate": 'Bearer realm="cardbase"'})
        _authenticate(secret)
    except ApiError as exc:
        return from_api_error(exc)
    return None


def api_actor() -> Actor:
    actor = g.get("cardbase_actor")
    if actor is None:  # pragma: no cover - the guard runs first for every non-public endpoint
        raise ApiError(401, UNAUTHORIZED, code="unauthorized")
    return actor


def optional_actor() -> Actor | None:
    """For public endpoints: the bearer token's user, else the browser session's, else None."""
    if g.get("cardbase_actor") is not None:
        return g.cardbase_actor
    secret = _bearer()
    if secret is not None:
        return _authenticate(secret)
    if current_user.is_authenticated:
        actor = actor_for(current_user.row, group_ids=current_user.group_ids)
        g.cardbase_actor = actor
        return actor
    return None


def _rate_limits() -> dict[str, int]:
    config = current_app.config.get("CARDBASE_API_TOKEN_RATE") or {}
    return {"per_address": int(config.get("per_address", tokens.RATE_PER_ADDRESS)),
            "per_user": int(config.get("per_user", tokens.RATE_PER_USER)),
            "window": int(config.get("window", tokens.RATE_WINDOW))}


# ---- endpoints ---------------------------------------------------------------------------------
@bp.route("/v1/auth/token", methods=["POST", "DELETE"])
def token():
    """POST: exchange a username and password for a session token (public). DELETE: revoke
    the token the request was made with (log out) -- one rule, so it checks the token itself."""
    if request.method == "DELETE":
        refused = require_token()
        if refused is not None:
            return refused
        tokens.revoke_token(get_db(), api_actor(), g.api_token_id)
        return no_content()
    body = json_object()
    username, password = body.get("username"), body.get("password")
    errors = {}
    if not isinstance(username, str) or not username.strip():
        errors["username"] = ["is required"]
    if not isinstance(password, str) or not password:
        errors["password"] = ["is required"]
    unknown = sorted(set(body) - {"username", "password"})
    for key in unknown:
        errors[key] = ["is not a parameter of this endpoint (send username and password)"]
    if errors:
        raise ValidationError(errors)
    db = get_db()
    tokens.check_rate(db, request.remote_addr or "", username, **_rate_limits())
    try:
        row = users.authenticate(db, username, password, address=request.remote_addr)
    except users.LoginThrottled as exc:
        raise ApiError(429, str(exc), code="too_many_attempts", headers={"Retry-After": str(exc.retry_after)}) from None
    if row is None:  # the same answer whether or not the name exists
        raise ApiError(401, "wrong username or password", code="invalid_credentials")
    secret, expires = tokens.issue_session_token(db, row)
    return json_response({"token": secret, "expires_at": expires})


@bp.get("/v1/auth/tokens")
def list_personal_tokens():
    user_id = arg_int("user_id", MAX_SMALL_ID)
    return json_response({"data": tokens.list_tokens(get_db(), api_actor(), user_id)})


@bp.post("/v1/auth/tokens")
def create_personal_token():
    body = json_object()
    unknown = sorted(set(body) - {"name", "expires_at", "user_id"})
    if unknown:
        raise ValidationError({k: "is not an attribute of a token (name, expires_at, user_id)" for k in unknown})
    user_id = body.get("user_id")
    if user_id is not None and (isinstance(user_id, bool) or not isinstance(user_id, int)
                                or not 1 <= user_id <= MAX_SMALL_ID):
        raise ValidationError({"user_id": "must be a user id"})
    created = tokens.create_personal_token(get_db(), api_actor(), body.get("name"), body.get("expires_at"), user_id)
    return json_response(created, 201)


@bp.delete("/v1/auth/tokens/<token_id>")
def revoke_personal_token(token_id: str):
    tokens.revoke_token(get_db(), api_actor(), small_id(token_id, "token_id"))
    return no_content()


@bp.get("/v1/me")
def me():
    from .admin import user_json

    return json_response(user_json(g.api_user, api_actor(), full=True))
