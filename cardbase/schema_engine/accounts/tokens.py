"""API bearer tokens: issuing, listing, revoking and checking.

A token is ``cb_`` plus 43 random URL-safe characters (256 bits). Only its SHA-256 is
stored (``cb_api_token.token_hash``, unique), so a stolen database copy yields no usable
token, and checking one is a single indexed lookup joined with its user.

* **Session tokens** are issued after a password login and expire after SESSION_HOURS.
  Like a browser session they carry the user's credentials epoch and end when it moves
  (a password change or reset, a deactivation) -- not when a login merely re-hashes
  the password.
* **Personal tokens** are created by a user for scripts and integrations, named, with
  an optional expiry; they survive password changes and are revoked one by one. Their
  owner manages them; anyone else's need an admin (the admin policy).
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from ..actor import Actor
from ..db import Database
from ..errors import CardbaseError, Forbidden, NotFound, ValidationError
from ..field_types import FieldValueError
from ..field_types.datetime_type import parse_datetime
from ..meta_models import User, UserGroup, utcnow
from ..token_models import ApiToken
from .policy import ADMIN

PREFIX = "cb_"
SESSION_HOURS = 12
MAX_PERSONAL_DAYS = 36500  # a hundred years: "never" is null
MAX_TOKENS_PER_USER = 100
TOUCH_EVERY = timedelta(minutes=10)  # last_used_at is written at most this often per token

_tokens = ApiToken.__table__
_users = User.__table__
_members = UserGroup.__table__


class TokenRejected(CardbaseError):
    """The bearer token does not authenticate anyone; ``code`` says why (invalid_token,
    token_expired)."""

    status = 401

    def __init__(self, message: str, code: str = "invalid_token"):
        super().__init__(message)
        self.code = code


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
    touch_due: bool = False  # last use not recorded yet: the caller calls ``touch`` (see authenticate)


# One statement per request: the token, its user and the user's groups (a row per group).
_AUTHENTICATE = (
    sa.select(_tokens.c.id.label("token_id"), _tokens.c.kind, _tokens.c.expires_at, _tokens.c.revoked_at,
              _tokens.c.credentials_epoch.label("token_epoch"), _tokens.c.last_used_at, _users,
              _members.c.group_id.label("member_of"))
    .join(_users, _users.c.id == _tokens.c.user_id)
    .outerjoin(_members, _members.c.user_id == _users.c.id)
    .where(_tokens.c.token_hash == sa.bindparam("token_hash")))


# ---- issuing ---------------------------------------------------------------------------------
def issue_session_token(db: Database, user: sa.Row, hours: int = SESSION_HOURS) -> tuple[str, datetime]:
    """A new session token for a user who just proved their password (``user`` is the row
    ``users.authenticate`` returned)."""
    now = utcnow()
    secret = new_secret()
    expires = now + timedelta(hours=hours)
    with db.write() as conn:
        # Expired session tokens of this user are of no use to anyone: tidy them up.
        conn.execute(sa.delete(_tokens).where(_tokens.c.user_id == user.id, _tokens.c.kind == "session",
                                              _tokens.c.expires_at < now - timedelta(days=1)))
        conn.execute(sa.insert(_tokens).values(
            user_id=user.id, kind="session", name="session", token_hash=hash_token(secret), prefix=secret[:10],
            password_fp="", credentials_epoch=user.credentials_epoch or 0, created_at=now, expires_at=expires))
    return secret, expires


def create_personal_token(db: Database, actor: Actor, name: Any, expires_at: Any = None,
                          user_id: int | None = None) -> dict[str, Any]:
    """A named personal token of the actor (an admin may create one for another user).
    Returns its description with the secret ``token`` -- shown this once only."""
    owner = actor.user_id if user_id is None else user_id
    if owner is None:
        raise Forbidden("the system has no personal tokens")
    ADMIN.require_self_or_admin(actor, owner, "create tokens for other users")
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
        token_id: int = conn.execute(sa.insert(_tokens).values(
            user_id=owner, kind="personal", name=name.strip(), token_hash=hash_token(secret), prefix=secret[:10],
            password_fp="", credentials_epoch=0, created_at=now, expires_at=expires)
            .returning(_tokens.c.id)).scalar_one()
        row = conn.execute(sa.select(_tokens).where(_tokens.c.id == token_id)).one()
    return {**token_json(row), "token": secret}


def _parse_expiry(value: Any) -> datetime | None:
    if value is None:
        return None
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
    ADMIN.require_self_or_admin(actor, owner, "see other users' tokens")
    with db.read() as conn:
        rows = conn.execute(sa.select(_tokens).where(_tokens.c.user_id == owner, _tokens.c.kind == "personal")
                            .order_by(_tokens.c.id.desc())).all()
    return [token_json(r) for r in rows]


def revoke_token(db: Database, actor: Actor, token_id: int) -> None:
    """Revoke a token: one's own, or any as an admin. Someone else's is NotFound (its
    existence is not revealed)."""
    with db.write() as conn:
        row = conn.execute(sa.select(_tokens.c.id, _tokens.c.user_id, _tokens.c.revoked_at)
                           .where(_tokens.c.id == token_id)).first()
        if row is None or (row.user_id != actor.user_id and not ADMIN.is_admin(actor)):
            raise NotFound(f"there is no token with id {token_id}")
        if row.revoked_at is None:
            conn.execute(sa.update(_tokens).where(_tokens.c.id == token_id).values(revoked_at=utcnow()))


# ---- checking ---------------------------------------------------------------------------------
def authenticate(db: Database, secret: str, conn: sa.Connection | None = None) -> Authenticated:
    """The user a bearer token belongs to, or TokenRejected saying why not.

    ``conn``: a read transaction the caller goes on using (the API request's, which its
    engine session then reads in), so the check costs no transaction of its own; without
    it the check opens one. Either way the token, its user and the groups are read afresh:
    a revocation, expiry, deactivation or password change counts on the next request."""
    if not secret.startswith(PREFIX) or len(secret) > 200:
        raise TokenRejected("the token is not a cardbase API token")
    now = utcnow()
    if conn is None:
        with db.read() as own:
            rows = own.execute(_AUTHENTICATE, {"token_hash": hash_token(secret)}).all()
    else:
        rows = conn.execute(_AUTHENTICATE, {"token_hash": hash_token(secret)}).all()
    row = rows[0] if rows else None
    if row is None or row.revoked_at is not None:
        raise TokenRejected("the token is unknown or was revoked")
    if row.expires_at is not None and row.expires_at <= now:
        raise TokenRejected(f"the token expired at {row.expires_at.isoformat(timespec='seconds')}Z; get a new one "
                            "from POST /api/v1/auth/token", code="token_expired")
    if not row.active:
        raise TokenRejected("the user of this token is deactivated")
    if row.kind == "session" and (row.token_epoch or 0) != (row.credentials_epoch or 0):
        raise TokenRejected("the password changed since this token was issued; get a new one")
    touch_due = row.last_used_at is None or row.last_used_at < now - TOUCH_EVERY
    if touch_due and conn is None:
        touch(db, row.token_id)
    groups = frozenset(r.member_of for r in rows if r.member_of is not None)
    # the row has every cb_user column
    return Authenticated(row, row.token_id, row.kind, groups, touch_due=touch_due and conn is not None)


def touch(db: Database, token_id: int) -> None:
    """Record that the token was used now (at most once per TOUCH_EVERY: ``authenticate``
    says when). Its own short write transaction: a caller that passed its read
    transaction to ``authenticate`` ends it first (on SQLite a reader would hold up the
    commit)."""
    with db.write() as conn:
        conn.execute(sa.update(_tokens).where(_tokens.c.id == token_id).values(last_used_at=utcnow()))
