"""Users: creation with clear validation errors, password login with lockout.

Repeated wrong passwords slow down (a growing delay, at most 2 s) and after five the
account is locked for five minutes, so guessing passwords online is hopeless. The
counter is updated atomically in the database, so several web workers count together.
"""
from __future__ import annotations

import re
import time
from datetime import datetime, timedelta
from typing import Any, Callable

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from cardbase.schema_engine.db import Database
from cardbase.schema_engine.errors import NotFound, ValidationError
from cardbase.schema_engine.meta_models import User, UserGroup, utcnow

from .passwords import burn_time, hash_password, needs_rehash, verify_password

UserRow = sa.Row  # a row of cb_user; columns are attributes (row.username, row.is_admin)

USERNAME_RE = re.compile(r"^[A-Za-z0-9._@-]{1,150}$")
MIN_PASSWORD = 8
MAX_PASSWORD = 1024  # hashing megabytes of "password" would be a cheap denial of service
MAX_FAILURES = 5
LOCK_TIME = timedelta(minutes=5)
BASE_DELAY = 0.1
MAX_DELAY = 2.0

_users = User.__table__


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


def create_user(db: Database, username: str, password: str, *, display_name: str = "", email: str = "",
                is_admin: bool = False, language: str = "en") -> UserRow:
    """Create a user with an Argon2 password hash. Usernames are unique ignoring case."""
    username = validate_username(username)
    password = validate_password(password)
    if not isinstance(display_name, str) or len(display_name) > 200:
        raise ValidationError({"display_name": "must be a text of at most 200 characters"})
    if language not in ("en", "de"):
        raise ValidationError({"language": f"'{language}' is not supported; use en or de"})
    password_hash = hash_password(password)  # slow: outside the write transaction
    try:
        with db.write() as conn:
            if _find(conn, username) is not None:
                raise ValidationError({"username": f"'{username}' is already taken"})
            user_id = conn.execute(sa.insert(_users).values(
                username=username, display_name=display_name.strip() or username, email=email or "",
                password_hash=password_hash, language=language, active=True, is_admin=bool(is_admin),
                failed_logins=0, locked_until=None, created_at=utcnow(),
            ).returning(_users.c.id)).scalar_one()
    except IntegrityError:  # created concurrently between our check and insert
        raise ValidationError({"username": f"'{username}' is already taken"}) from None
    user = get_user(db, user_id)
    assert user is not None
    return user


def set_password(db: Database, username: str, password: str) -> None:
    """Replace a user's password and lift any lock (admin reset, ``cardbase user``)."""
    password_hash = hash_password(validate_password(password))
    with db.write() as conn:
        user = _find(conn, username)
        if user is None:
            raise NotFound(f"there is no user '{username}'")
        conn.execute(sa.update(_users).where(_users.c.id == user.id).values(
            password_hash=password_hash, failed_logins=0, locked_until=None))


def get_user(db: Database, user_id: int) -> UserRow | None:
    with db.read() as conn:
        return conn.execute(sa.select(_users).where(_users.c.id == user_id)).first()


def find_user(db: Database, username: str) -> UserRow | None:
    """The user called ``username`` (exact match first, else ignoring case)."""
    with db.read() as conn:
        return _find(conn, username)


def _find(conn: sa.Connection, username: str) -> UserRow | None:
    if not isinstance(username, str) or not username or len(username) > 150:
        return None
    rows = conn.execute(sa.select(_users).where(sa.func.lower(_users.c.username) == username.lower())
                        .order_by(_users.c.id)).all()
    return next((r for r in rows if r.username == username), rows[0] if rows else None)


def count_users(db: Database) -> int:
    with db.read() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(_users)).scalar_one()


def group_ids(db: Database, user_id: int) -> frozenset[int]:
    """The ids of the groups the user belongs to (for the Actor)."""
    with db.read() as conn:
        return frozenset(conn.execute(sa.select(UserGroup.group_id).where(UserGroup.user_id == user_id)).scalars())


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
    after the lock runs out, each further failure locks it again until a login succeeds)."""
    if not isinstance(password, str) or not password or len(password) > MAX_PASSWORD:
        sleep(failure_delay(1))
        return None
    with db.read() as conn:
        user = _find(conn, username)
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
        failures = conn.execute(sa.update(_users).where(_users.c.id == user.id)
                                .values(failed_logins=_users.c.failed_logins + 1)
                                .returning(_users.c.failed_logins)).scalar_one()
        if failures >= MAX_FAILURES:
            conn.execute(sa.update(_users).where(_users.c.id == user.id).values(locked_until=moment + LOCK_TIME))
    sleep(failure_delay(failures))
    return None
