"""Users: creation, profile changes, deactivation and passwords (admin policy applied
here, for every channel), password login with throttling, and browser login sessions.

**Login.** ``authenticate`` answers alike for known and unknown names (an unknown name or
an inactive user costs one Argon2 verification of a dummy hash, like a wrong password)
and never sleeps: failures are counted in the database by name and address
(``throttle``), and past the limits it raises ``LoginThrottled`` (429 with Retry-After)
before checking any password. The per-name throttle expires (at most 15 minutes) and does
not hold up an address that has not failed for that name, so nobody locks the real owner
out -- administrators included.

**Passwords** must pass ``password_rules`` (length, repetitions, sequences, notorious
words, the user's own name): the refusal names the rule.

**Sessions.** A browser login is a row of ``cb_login_session``; the cookie carries its
secret (``start_session``), ``user_for_session`` reads it with the user and the groups in
one read transaction, logout revokes it (``end_session``).

**Credentials epoch.** ``cb_user.credentials_epoch`` is a counter bumped when the
credentials really change: a new password (own change or admin reset), a deactivation and
a reactivation. API session tokens carry the epoch they were issued in and end when it
moved; the same changes revoke every browser session of the user, and a deactivation
also revokes the personal tokens, so a reactivation brings nothing old back. A login that
merely re-hashes the same password with newer Argon2 parameters ends nothing.
"""
from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta
from typing import Any, Callable

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from ..actor import Actor
from ..db import Database
from ..errors import NotFound, ValidationError
from ..i18n import _
from ..meta_models import User, UserGroup, utcnow
from ..token_models import ApiToken, LoginSession
from . import throttle
from .password_rules import MIN_LENGTH, password_problem
from .passwords import burn_time, hash_password, needs_rehash, verify_password
from .policy import ADMIN
from .throttle import LoginThrottled

UserRow = sa.Row  # a row of cb_user; columns are attributes (row.username, row.is_admin)

USERNAME_RE = re.compile(r"^[A-Za-z0-9._@-]{1,150}$")
EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
LANGUAGES = ("en", "de")
MIN_PASSWORD = MIN_LENGTH
MAX_PASSWORD = 1024  # hashing megabytes of "password" would be a cheap denial of service
SESSION_IDLE = timedelta(days=14)  # a browser session unused this long ends
SEEN_EVERY = timedelta(minutes=10)  # last_seen_at is written at most this often per session
USER_CHANGES = ("display_name", "email", "language", "active", "is_admin")
SELF_CHANGES = ("display_name", "email", "language")

_users = User.__table__
_sessions = LoginSession.__table__
_tokens = ApiToken.__table__


# ---- validation ---------------------------------------------------------------------------------
def validate_username(username: Any) -> str:
    """The username, or ValidationError saying what is wrong with it."""
    if not isinstance(username, str) or not username:
        raise ValidationError({"username": "is required"})
    if len(username) > 150:
        raise ValidationError({"username": f"is {len(username)} characters long; at most 150 are allowed"})
    if not USERNAME_RE.match(username):
        raise ValidationError({"username": (
            f"'{username}' may only contain letters a-z and A-Z, digits and the characters . _ - @")})
    return username


def validate_password(password: Any, *, username: str | None = None, display_name: str | None = None,
                      email: str | None = None) -> str:
    """The password, or ValidationError naming the rule it breaks (``password_rules``:
    too short, repeated, a sequence, a common word, the user's own name)."""
    if not isinstance(password, str) or not password:
        raise ValidationError({"password": "is required"})
    if len(password) > MAX_PASSWORD:
        raise ValidationError({"password": f"is longer than {MAX_PASSWORD} characters"})
    problem = password_problem(password, username=username, display_name=display_name, email=email)
    if problem is not None:
        raise ValidationError({"password": problem})
    return password


def _display_name(value: Any) -> str:
    if not isinstance(value, str) or len(value) > 200:
        raise ValidationError({"display_name": "must be a text of at most 200 characters"})
    return value.strip()


def _email(value: Any) -> str:
    value = value or ""
    if not isinstance(value, str) or (value and not EMAIL_RE.match(value)) or len(value) > 254:
        raise ValidationError({"email": f"{value!r} is not an e-mail address"})
    return value


def _language(value: Any) -> str:
    if value not in LANGUAGES:
        raise ValidationError({"language": f"{value!r} is not supported; use en or de"})
    return value


def _flag(value: Any, key: str) -> bool:
    if not isinstance(value, bool):
        raise ValidationError({key: "must be true or false"})
    return value


# ---- reading ------------------------------------------------------------------------------------
def get_user(db: Database, user_id: int) -> UserRow | None:
    with db.read() as conn:
        return conn.execute(sa.select(_users).where(_users.c.id == user_id)).first()


def find_user(db: Database, username: str) -> UserRow | None:
    """The user called ``username`` (exact match first, else ignoring case)."""
    with db.read() as conn:
        return find(conn, username)


def find(conn: sa.Connection, username: str) -> UserRow | None:
    if not isinstance(username, str) or not username or len(username) > 150:
        return None
    rows = conn.execute(sa.select(_users).where(sa.func.lower(_users.c.username) == username.lower())
                        .order_by(_users.c.id)).all()
    return next((r for r in rows if r.username == username), rows[0] if rows else None)


def resolve(conn: sa.Connection, ref: Any) -> UserRow:
    """A user by id or username; NotFound naming the reference."""
    row = conn.execute(sa.select(_users).where(_users.c.id == ref)).first() \
        if isinstance(ref, int) and not isinstance(ref, bool) else find(conn, ref)
    if row is None:
        raise NotFound(f"there is no user {ref!r}")
    return row


def count_users(db: Database) -> int:
    with db.read() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(_users)).scalar_one()


def group_ids(db: Database, user_id: int) -> frozenset[int]:
    """The ids of the groups the user belongs to (for the Actor)."""
    with db.read() as conn:
        return frozenset(conn.execute(sa.select(UserGroup.group_id).where(UserGroup.user_id == user_id)).scalars())


def _session_id(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "replace")).hexdigest()


def start_session(db: Database, user: UserRow) -> str:
    """A new browser session for a user who just logged in: the secret its cookie keeps
    (only its SHA-256 is stored, so a copy of the database opens no session)."""
    secret = secrets.token_urlsafe(32)
    now = utcnow()
    with db.write() as conn:
        conn.execute(sa.delete(_sessions).where(_sessions.c.user_id == user.id,
                                                sa.or_(_sessions.c.revoked_at.is_not(None),
                                                       _sessions.c.last_seen_at < now - SESSION_IDLE)))
        conn.execute(sa.insert(_sessions).values(id=_session_id(secret), user_id=user.id, created_at=now,
                                                 last_seen_at=now, revoked_at=None))
    return secret


def end_session(db: Database, secret: str) -> None:
    """Log out: the session is revoked on the server, so its cookie opens nothing any more."""
    if not isinstance(secret, str) or not secret:
        return
    with db.write() as conn:
        conn.execute(sa.update(_sessions).where(_sessions.c.id == _session_id(secret), _sessions.c.revoked_at.is_(None))
                     .values(revoked_at=utcnow()))


def _revoke_all(conn: sa.Connection, user_id: int, now: datetime, *, personal: bool = False) -> None:
    """End every browser session of a user (session tokens end with the credentials
    epoch), and with ``personal`` also their personal tokens."""
    conn.execute(sa.update(_sessions).where(_sessions.c.user_id == user_id, _sessions.c.revoked_at.is_(None))
                 .values(revoked_at=now))
    if personal:
        conn.execute(sa.update(_tokens).where(_tokens.c.user_id == user_id, _tokens.c.kind == "personal",
                                              _tokens.c.revoked_at.is_(None)).values(revoked_at=now))


_SESSION_USER = (sa.select(_sessions.c.last_seen_at.label("session_seen"), _sessions.c.revoked_at.label("session_revoked"),
                           _users)
                 .join(_users, _users.c.id == _sessions.c.user_id)
                 .where(_sessions.c.id == sa.bindparam("session_id")))


def user_for_session(db: Database, key: str) -> tuple[UserRow, frozenset[int]] | None:
    """The active user whose live browser session the cookie's secret names, with the ids
    of their groups (read now, so a change of membership takes effect on the next
    request): one read transaction per request for who is asking. A revoked, idle or
    unknown session, or a deactivated user, is None."""
    if not isinstance(key, str) or not key or len(key) > 200:
        return None
    session_id = _session_id(key)
    now = utcnow()
    with db.read() as conn:
        found = conn.execute(_SESSION_USER, {"session_id": session_id}).first()
        if found is None or found.session_revoked is not None or not found.active \
                or found.session_seen < now - SESSION_IDLE:
            return None
        groups = frozenset(conn.execute(sa.select(UserGroup.group_id).where(UserGroup.user_id == found.id)).scalars())
    if found.session_seen < now - SEEN_EVERY:
        with db.write() as conn:
            conn.execute(sa.update(_sessions).where(_sessions.c.id == session_id).values(last_seen_at=now))
    return found, groups  # the row has every cb_user column


# ---- administration -----------------------------------------------------------------------------
def create_user(db: Database, actor: Actor, username: str, password: str, *, display_name: str = "",
                email: str = "", is_admin: bool = False, language: str = "en") -> UserRow:
    """Create a user (admins only) with an Argon2 password hash. Usernames are unique
    ignoring case."""
    ADMIN.require_admin(actor, "create users")
    username = validate_username(username)
    display_name = _display_name(display_name)
    email = _email(email)
    password = validate_password(password, username=username, display_name=display_name, email=email)
    language = _language(language)
    is_admin = _flag(is_admin, "is_admin")
    password_hash = hash_password(password)  # slow: outside the write transaction
    try:
        with db.write() as conn:
            if find(conn, username) is not None:
                raise ValidationError({"username": f"'{username}' is already taken"})
            user_id: int = conn.execute(sa.insert(_users).values(
                username=username, display_name=display_name or username, email=email,
                password_hash=password_hash, language=language, active=True, is_admin=is_admin,
                failed_logins=0, locked_until=None, credentials_epoch=0, created_at=utcnow(),
            ).returning(_users.c.id)).scalar_one()
    except IntegrityError:  # created concurrently between our check and insert
        raise ValidationError({"username": f"'{username}' is already taken"}) from None
    user = get_user(db, user_id)
    assert user is not None
    return user


def set_password(db: Database, actor: Actor, user: Any, password: str, *,
                 current_password: str | None = None) -> UserRow:
    """Replace a user's password, lift any lock and end their sessions and session tokens
    (the credentials epoch moves). Users change their own with their current password;
    admins set anyone's (a reset) without it."""
    return update_user(db, actor, user, password=password, current_password=current_password)


def update_user(db: Database, actor: Actor, user: Any, *, password: str | None = None,
                current_password: str | None = None, **changes: Any) -> UserRow:
    """Change display name, e-mail, language (the user themselves or an admin), active
    and admin flag (admins only; the last active admin cannot be demoted or deactivated)
    and, with ``password``, the password (see ``set_password``) -- all or nothing.
    Deactivating or a new password ends the user's sessions and session tokens."""
    unknown = set(changes) - set(USER_CHANGES)
    if unknown:
        raise ValidationError({k: "cannot be changed here" for k in sorted(unknown)})
    if set(changes) - set(SELF_CHANGES):
        ADMIN.require_admin(actor, "change the active and the admin flag")
    password_hash = None
    if password is not None:
        with db.read() as conn:
            row = resolve(conn, user)
        ADMIN.require_self_or_admin(actor, row.id, "change other users' passwords")
        if not ADMIN.is_admin(actor) and (not isinstance(current_password, str)
                                          or not verify_password(row.password_hash, current_password)):
            raise ValidationError({"current_password": "is required and must be your current password"})
        display = _display_name(changes["display_name"]) if "display_name" in changes else row.display_name
        email = _email(changes["email"]) if "email" in changes else row.email
        password_hash = hash_password(validate_password(  # slow: outside the transaction
            password, username=row.username, display_name=display, email=email))
    elif current_password is not None:
        raise ValidationError({"current_password": "is only needed together with a new password"})
    with db.write() as conn:
        row = resolve(conn, user)
        ADMIN.require_self_or_admin(actor, row.id, "change other users")
        values: dict[str, Any] = {}
        if "display_name" in changes:
            values["display_name"] = _display_name(changes["display_name"]) or row.username
        if "email" in changes:
            values["email"] = _email(changes["email"])
        if "language" in changes:
            values["language"] = _language(changes["language"])
        for flag in ("active", "is_admin"):
            if flag in changes:
                values[flag] = _flag(changes[flag], flag)
        if values.get("active") is False and row.active and actor.user_id == row.id:
            raise ValidationError({"active": _("you cannot deactivate yourself: ask another administrator")})
        if row.is_admin and row.active and (values.get("active") is False or values.get("is_admin") is False):
            others = conn.execute(sa.select(sa.func.count()).select_from(_users).where(
                _users.c.is_admin.is_(True), _users.c.active.is_(True), _users.c.id != row.id)).scalar_one()
            if not others:
                raise ValidationError({"is_admin": "the last active administrator cannot be demoted or deactivated"})
        if password_hash is not None:
            values.update(password_hash=password_hash, failed_logins=0, locked_until=None)
        deactivated = values.get("active") is False and row.active
        reactivated = values.get("active") is True and not row.active
        if password_hash is not None or deactivated or reactivated:
            # Sessions and tokens from before end; a reactivation brings none of them back.
            values["credentials_epoch"] = _users.c.credentials_epoch + 1
            _revoke_all(conn, row.id, utcnow(), personal=deactivated or reactivated)
        if values:
            conn.execute(sa.update(_users).where(_users.c.id == row.id).values(**values))
        return conn.execute(sa.select(_users).where(_users.c.id == row.id)).one()


def deactivate_user(db: Database, actor: Actor, user: Any) -> UserRow:
    """Users are never deleted (history names them): this deactivates the account."""
    ADMIN.require_admin(actor, "deactivate users")
    return update_user(db, actor, user, active=False)


def unlock_user(db: Database, actor: Actor, user: Any) -> UserRow:
    """Lift the login throttle of a user (admins only): their name's failed logins are
    forgotten, so they may try again at once."""
    ADMIN.require_admin(actor, "unlock users")
    with db.write() as conn:
        row = resolve(conn, user)
        throttle.forget_name(conn, row.username)
        conn.execute(sa.update(_users).where(_users.c.id == row.id).values(failed_logins=0, locked_until=None))
        return conn.execute(sa.select(_users).where(_users.c.id == row.id)).one()


def is_throttled(db: Database, user: UserRow, now: datetime | None = None) -> bool:
    """Would a login by this user's name be held back now (from an address that failed)?"""
    with db.read() as conn:
        return throttle.name_failures(conn, user.username, now or utcnow()) >= throttle.FREE_FAILURES


# ---- login --------------------------------------------------------------------------------------
def authenticate(db: Database, username: str, password: str, *, address: str | None = None,
                 now: Callable[[], datetime] = utcnow, sleep: Any = None) -> UserRow | None:
    """The user if ``password`` is right and the account is active, else None -- the same
    work and answer whether or not the name exists. ``LoginThrottled`` (429, with
    ``retry_after`` seconds) when the name or the client ``address`` failed too often
    (``throttle``); no password is checked then. Never sleeps (``sleep`` is accepted and
    ignored, for old callers). A hash made with weaker parameters is replaced; the
    credentials epoch stays."""
    del sleep
    name = username if isinstance(username, str) else ""
    moment = now()
    with db.read() as conn:
        wait = throttle.retry_after(conn, name, address, moment)
        user = find(conn, name) if wait is None else None
    if wait is not None:
        raise LoginThrottled(wait)
    if not isinstance(password, str) or not password or len(password) > MAX_PASSWORD:
        ok = False
        burn_time("")
    elif user is None or not user.active or not user.password_hash:
        ok = False
        burn_time(password)  # as long as checking a real password: no timing oracle
    else:
        ok = verify_password(user.password_hash, password)
    if not ok or user is None:
        with db.write() as conn:
            throttle.record_failure(conn, name, address, moment)
        return None
    values: dict[str, Any] = {"failed_logins": 0, "locked_until": None}
    if needs_rehash(user.password_hash):
        values["password_hash"] = hash_password(password)
    with db.write() as conn:
        throttle.record_success(conn, name, address)
        conn.execute(sa.update(_users).where(_users.c.id == user.id).values(**values))
        return conn.execute(sa.select(_users).where(_users.c.id == user.id)).one()
