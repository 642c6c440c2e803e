"""Users: creation, profile changes, deactivation and passwords (admin policy applied
here, for every channel), and password login with lockout.

Repeated wrong passwords slow down (a growing delay, at most 2 s) and after five the
account is locked for five minutes, so guessing passwords online is hopeless. The
counter is updated atomically in the database, so several web workers count together.

**Credentials epoch.** ``cb_user.credentials_epoch`` is a counter bumped when the
credentials really change: a new password (own change or admin reset) and a
deactivation. Browser sessions and API session tokens carry the epoch they were issued
in and end when it moved. A login that merely re-hashes the same password with newer
Argon2 parameters changes the hash but not the epoch, so it ends nothing.
"""
from __future__ import annotations

import re
import time
from datetime import datetime, timedelta
from typing import Any, Callable

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from ..actor import Actor
from ..db import Database
from ..errors import NotFound, ValidationError
from ..meta_models import User, UserGroup, utcnow
from .passwords import burn_time, hash_password, needs_rehash, verify_password
from .policy import ADMIN

UserRow = sa.Row  # a row of cb_user; columns are attributes (row.username, row.is_admin)

USERNAME_RE = re.compile(r"^[A-Za-z0-9._@-]{1,150}$")
EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
LANGUAGES = ("en", "de")
MIN_PASSWORD = 8
MAX_PASSWORD = 1024  # hashing megabytes of "password" would be a cheap denial of service
MAX_FAILURES = 5
LOCK_TIME = timedelta(minutes=5)
BASE_DELAY = 0.1
MAX_DELAY = 2.0
USER_CHANGES = ("display_name", "email", "language", "active", "is_admin")
SELF_CHANGES = ("display_name", "email", "language")

_users = User.__table__


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


def validate_password(password: Any) -> str:
    """The password, or ValidationError if it is too short or too long."""
    if not isinstance(password, str) or not password:
        raise ValidationError({"password": "is required"})
    if len(password) < MIN_PASSWORD:
        raise ValidationError({"password": f"is {len(password)} characters long; at least {MIN_PASSWORD} are needed"})
    if len(password) > MAX_PASSWORD:
        raise ValidationError({"password": f"is longer than {MAX_PASSWORD} characters"})
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


def session_key(row: UserRow) -> str:
    """What a browser session remembers of the user: id and credentials epoch."""
    return f"{row.id}.{row.credentials_epoch or 0}"


def user_for_session(db: Database, key: str) -> tuple[UserRow, frozenset[int]] | None:
    """The active user a session key names, if their credentials did not change since,
    with the ids of their groups (read now, so a change of membership takes effect on the
    next request): one read transaction per request for who is asking."""
    user_id, _sep, epoch = key.partition(".")
    if not user_id.isdigit() or not epoch.isdigit():
        return None
    with db.read() as conn:
        row = conn.execute(sa.select(_users).where(_users.c.id == int(user_id))).first()
        if row is None or not row.active or int(epoch) != (row.credentials_epoch or 0):
            return None
        groups = frozenset(conn.execute(sa.select(UserGroup.group_id).where(UserGroup.user_id == row.id)).scalars())
    return row, groups


# ---- administration -----------------------------------------------------------------------------
def create_user(db: Database, actor: Actor, username: str, password: str, *, display_name: str = "",
                email: str = "", is_admin: bool = False, language: str = "en") -> UserRow:
    """Create a user (admins only) with an Argon2 password hash. Usernames are unique
    ignoring case."""
    ADMIN.require_admin(actor, "create users")
    username = validate_username(username)
    password = validate_password(password)
    display_name = _display_name(display_name)
    email = _email(email)
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
        password_hash = hash_password(validate_password(password))  # slow: outside the transaction
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
        if row.is_admin and row.active and (values.get("active") is False or values.get("is_admin") is False):
            others = conn.execute(sa.select(sa.func.count()).select_from(_users).where(
                _users.c.is_admin.is_(True), _users.c.active.is_(True), _users.c.id != row.id)).scalar_one()
            if not others:
                raise ValidationError({"is_admin": "the last active administrator cannot be demoted or deactivated"})
        if password_hash is not None:
            values.update(password_hash=password_hash, failed_logins=0, locked_until=None)
        if password_hash is not None or (values.get("active") is False and row.active):
            values["credentials_epoch"] = _users.c.credentials_epoch + 1
        if values:
            conn.execute(sa.update(_users).where(_users.c.id == row.id).values(**values))
        return conn.execute(sa.select(_users).where(_users.c.id == row.id)).one()


def deactivate_user(db: Database, actor: Actor, user: Any) -> UserRow:
    """Users are never deleted (history names them): this deactivates the account."""
    ADMIN.require_admin(actor, "deactivate users")
    return update_user(db, actor, user, active=False)


# ---- login --------------------------------------------------------------------------------------
def failure_delay(failures: int) -> float:
    """Seconds to wait after the n-th failed attempt: 0.1, 0.2, 0.4, … at most 2."""
    return min(MAX_DELAY, BASE_DELAY * 2 ** max(0, failures - 1))


def is_locked(user: UserRow, now: datetime | None = None) -> bool:
    return user.locked_until is not None and user.locked_until > (now or utcnow())


def authenticate(db: Database, username: str, password: str, *,
                 sleep: Callable[[float], None] = time.sleep,
                 now: Callable[[], datetime] = utcnow) -> UserRow | None:
    """The user if ``password`` is right and the account is active and not locked, else
    None. Failures are counted; the fifth in a row locks the account for LOCK_TIME (and
    after the lock runs out, each further failure locks it again until a login succeeds).
    A hash made with weaker parameters is replaced; the credentials epoch stays."""
    if not isinstance(password, str) or not password or len(password) > MAX_PASSWORD:
        sleep(failure_delay(1))
        return None
    with db.read() as conn:
        user = find(conn, username)
    if user is None or not user.active:
        burn_time(password)
        sleep(failure_delay(1))
        return None
    moment = now()
    if is_locked(user, moment):
        sleep(failure_delay(user.failed_logins or MAX_FAILURES))
        return None
    if verify_password(user.password_hash, password):
        values: dict[str, Any] = {"failed_logins": 0, "locked_until": None}
        if needs_rehash(user.password_hash):
            values["password_hash"] = hash_password(password)
        with db.write() as conn:
            conn.execute(sa.update(_users).where(_users.c.id == user.id).values(**values))
        return get_user(db, user.id)
    with db.write() as conn:
        failures: int = conn.execute(sa.update(_users).where(_users.c.id == user.id)
                                .values(failed_logins=_users.c.failed_logins + 1)
                                .returning(_users.c.failed_logins)).scalar_one()
        if failures >= MAX_FAILURES:
            conn.execute(sa.update(_users).where(_users.c.id == user.id).values(locked_until=moment + LOCK_TIME))
    sleep(failure_delay(failures))
    return None

