"""Bearer tokens and the token endpoint's rate limit.

A token is ``cb_`` plus 43 random URL-safe characters (256 bits). Only its SHA-256 is
stored (``cb_api_token.token_hash``, unique), so a stolen database copy yields no usable
token, and checking one is a single indexed lookup joined with its user.

* **Session tokens** come from ``POST /api/v1/auth/token`` (username and password, the
  same lockout as the login form) and expire after SESSION_HOURS. Like a browser
  session they end when the user's password changes or the user is deactivated.
* **Personal tokens** are created by a user for scripts and integrations, named, with
  an optional expiry; they survive password changes and are revoked one by one.

The rate limit is a sliding window in ``cb_auth_attempt``: every token request counts
against its client address and its username; past the limit the endpoint answers 429
with Retry-After. It lives in the database so every worker counts together (DESIGN: no
cross-request state in process memory).
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from cardbase.schema_engine.actor import Actor
from cardbase.schema_engine.db import Database
from cardbase.schema_engine.errors import Forbidden, NotFound, ValidationError
from cardbase.schema_engine.meta_models import User, UserGroup, utcnow
from cardbase.schema_engine.token_models import ApiToken, AuthAttempt

from ..auth import _fingerprint
from .errors import ApiError

PREFIX = "cb_"
SESSION_HOURS = 12
MAX_PERSONAL_DAYS = 36500  # a hundred years: "never" is null
MAX_TOKENS_PER_USER = 100
TOUCH_EVERY = timedelta(minutes=10)  # last_used_at is written at most this often per token
# Token requests per window: per client address and per username (config can override).
RATE_PER_ADDRESS = 30
RATE_PER_USER = 10
RATE_WINDOW = 60  # seconds

_tokens = ApiToken.__table__
_users = User.__table__
_attempts = AuthAttempt.__table__
_members = UserGroup.__table__


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def new_secret() -> str:
    return PREFIX + secrets.token_urlsafe(32)


@dataclass(frozen=True)
class Authenticated:
    user: sa.Row
    token_id: int
    kind: str
    group_ids: frozenset[int]


# One statement per request: the token, its user and the user's groups (a row per group).
_AUTHENTICATE = (
    sa.select(_tokens.c.id.label("token_id"), _tokens.c.kind, _tokens.c.expires_at, _tokens.c.revoked_at,
              _tokens.c.password_fp, _tokens.c.last_used_at, _users, _members.c.group_id.label("member_of"))
    .join(_users, _users.c.id == _tokens.c.user_id)
    .outerjoin(_members, _members.c.user_id == _users.c.id)
    .where(_tokens.c.token_hash == sa.bindparam("token_hash")))


# ---- issuing ---------------------------------------------------------------------------------
def issue_session_token(db: Database, user: sa.Row, hours: int = SESSION_HOURS) -> tuple[str, datetime]:
    """A new session token for a user who just proved their password."""
    now = utcnow()
    secret = new_secret()
    expires = now + timedelta(hours=hours)
    with db.write() as conn:
        # Expired session tokens of this user are of no use to anyone: tidy them up.
        conn.execute(sa.delete(_tokens).where(_tokens.c.user_id == user.id, _tokens.c.kind == "session",
                                              _tokens.c.expires_at < now - timedelta(days=1)))
        conn.execute(sa.insert(_tokens).values(
            user_id=user.id, kind="session", name="session", token_hash=hash_token(secret), prefix=secret[:10],
            password_fp=_fingerprint(user.password_hash), created_at=now, expires_at=expires))
    return secret, expires


def create_personal_token(db: Database, actor: Actor, name: Any, expires_at: Any = None,
                          user_id: int | None = None) -> dict[str, Any]:
    """A named personal token of the actor (an admin may create one for another user).
    Returns its description with the secret ``token`` -- shown this once only."""
    owner = actor.user_id if user_id is None else user_id
    if owner is None:
        raise Forbidden("the system has no personal tokens")
    if owner != actor.user_id and not actor.is_admin:
        raise Forbidden("only administrators may create tokens for other users")
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > 200:
        raise ValidationError({"name": "is required: a text of 1 to 200 characters saying what the token is for"})
    expires = _parse_expiry(expires_at)
    now = utcnow()
    secret = new_secret()
    with db.write() as conn:
        if conn.execute(sa.select(_users.c.id).where(_users.c.id == owner, _users.c.active.is_(True))).first() is None:
            raise NotFound(f"there is no active user with id {owner}")
        live = conn.execute(sa.select(sa.func.count()).select_from(_tokens).where(
            _tokens.c.user_id == owner, _tokens.c.kind == "personal", _tokens.c.revoked_at.is_(None))).scalar_one()
        if live >= MAX_TOKENS_PER_USER:
            raise ValidationError({"name": f"a user may have at most {MAX_TOKENS_PER_USER} personal tokens; "
                                           "revoke unused ones first"})
        token_id = conn.execute(sa.insert(_tokens).values(
            user_id=owner, kind="personal", name=name.strip(), token_hash=hash_token(secret), prefix=secret[:10],
            password_fp="", created_at=now, expires_at=expires).returning(_tokens.c.id)).scalar_one()
        row = conn.execute(sa.select(_tokens).where(_tokens.c.id == token_id)).one()
    return {**token_json(row), "token": secret}


def _parse_expiry(value: Any) -> datetime | None:
    if value is None:
        return None
    from cardbase.schema_engine.field_types import FieldValueError
    from cardbase.schema_engine.field_types.datetime_type import parse_datetime

    if not isinstance(value, str):
        raise ValidationError({"expires_at": "must be a date and time like 2027-01-31T00:00:00Z, or null"})
    try:
        moment = parse_datetime(value)
    except FieldValueError as exc:
        raise ValidationError({"expires_at": str(exc)}) from None
    now = utcnow()
    if moment <= now:
        raise ValidationError({"expires_at": "must be in the future"})
    if moment > now + timedelta(days=MAX_PERSONAL_DAYS):
        raise ValidationError({"expires_at": f"must be within {MAX_PERSONAL_DAYS} days"})
    return moment


def token_json(row: Any) -> dict[str, Any]:
    return {"id": row.id, "name": row.name, "kind": row.kind, "prefix": row.prefix, "user_id": row.user_id,
            "created_at": row.created_at, "expires_at": row.expires_at, "last_used_at": row.last_used_at,
            "revoked_at": row.revoked_at}


def list_tokens(db: Database, actor: Actor, user_id: int | None = None) -> list[dict[str, Any]]:
    """Personal tokens of a user (their own; admins anyone's), newest first, no secrets."""
    owner = actor.user_id if user_id is None else user_id
    if owner != actor.user_id and not actor.is_admin:
        raise Forbidden("only administrators may see other users' tokens")
    with db.read() as conn:
        rows = conn.execute(sa.select(_tokens).where(_tokens.c.user_id == owner, _tokens.c.kind == "personal")
                            .order_by(_tokens.c.id.desc())).all()
    return [token_json(r) for r in rows]


def revoke_token(db: Database, actor: Actor, token_id: int) -> None:
    """Revoke a token: one's own, or any as an admin. Someone else's is NotFound."""
    with db.write() as conn:
        row = conn.execute(sa.select(_tokens.c.id, _tokens.c.user_id, _tokens.c.revoked_at)
                           .where(_tokens.c.id == token_id)).first()
        if row is None or (row.user_id != actor.user_id and not actor.is_admin):
            raise NotFound(f"there is no token with id {token_id}")
        if row.revoked_at is None:
            conn.execute(sa.update(_tokens).where(_tokens.c.id == token_id).values(revoked_at=utcnow()))


# ---- checking ---------------------------------------------------------------------------------
def authenticate(db: Database, secret: str) -> Authenticated:
    """The user a bearer token belongs to, or ApiError 401 saying why not."""
    if not secret.startswith(PREFIX) or len(secret) > 200:
        raise _invalid("the token is not a cardbase API token")
    now = utcnow()
    with db.read() as conn:
        rows = conn.execute(_AUTHENTICATE, {"token_hash": hash_token(secret)}).all()
    row = rows[0] if rows else None
    if row is None or row.revoked_at is not None:
        raise _invalid("the token is unknown or was revoked")
    if row.expires_at is not None and row.expires_at <= now:
        raise ApiError(401, f"the token expired at {row.expires_at.isoformat(timespec='seconds')}Z; get a new one "
                            "from POST /api/v1/auth/token", code="token_expired",
                       headers={"WWW-Authenticate": 'Bearer error="invalid_token", '
                                                    'error_description="the token expired"'})
    if not row.active:
        raise _invalid("the user of this token is deactivated")
    if row.kind == "session" and row.password_fp != _fingerprint(row.password_hash):
        raise _invalid("the password changed since this token was issued; get a new one")
    if row.last_used_at is None or row.last_used_at < now - TOUCH_EVERY:
        with db.write() as conn:
            conn.execute(sa.update(_tokens).where(_tokens.c.id == row.token_id).values(last_used_at=now))
    groups = frozenset(r.member_of for r in rows if r.member_of is not None)
    return Authenticated(row, row.token_id, row.kind, groups)  # the row has every cb_user column


def _invalid(message: str) -> ApiError:
    return ApiError(401, message, code="invalid_token",
                    headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})


# ---- rate limit ------------------------------------------------------------------------------
def check_rate(db: Database, address: str, username: str, *, per_address: int = RATE_PER_ADDRESS,
               per_user: int = RATE_PER_USER, window: int = RATE_WINDOW) -> None:
    """Count this token request; ApiError 429 (with Retry-After) past either limit."""
    now = utcnow()
    start = now - timedelta(seconds=window)
    keys = [(f"addr:{address or '-'}"[:200], per_address)]
    if username:
        keys.append((f"user:{username.casefold()}"[:200], per_user))
    with db.write() as conn:
        conn.execute(sa.delete(_attempts).where(_attempts.c.at < start))
        for key, limit in keys:
            rows = conn.execute(sa.select(_attempts.c.at).where(_attempts.c.key == key, _attempts.c.at >= start)
                                .order_by(_attempts.c.at).limit(limit)).scalars().all()
            if len(rows) >= limit:
                retry = max(1, int((rows[0] - start).total_seconds()) + 1)
                what = "from your address" if key.startswith("addr:") else "for this user"
                raise ApiError(429, f"too many token requests {what}: at most {limit} per {window} seconds; "
                                    f"try again in {retry} s", headers={"Retry-After": str(retry)})
        conn.execute(sa.insert(_attempts), [{"key": key, "at": now} for key, _limit in keys])
