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

from cardbase.schema_engine.actor import Actor
from cardbase.schema_engine.db import Database
from cardbase.schema_engine.errors import Forbidden, NotFound, ValidationError
from cardbase.schema_engine.meta_models import Group, User, UserGroup, utcnow
from cardbase.schema_engine.rights.models import bump_rights_version

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


# ---- administration: users and groups ---------------------------------------------------------
# Only admins manage users and groups (a user cannot add themselves to a group, make
# themselves admin or reactivate anyone); users may change their own name, e-mail and
# language. Group changes bump the rights version so every worker reloads the rights.
_groups = Group.__table__
_members = UserGroup.__table__
EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
LANGUAGES = ("en", "de")
USER_CHANGES = ("display_name", "email", "language", "active", "is_admin")
SELF_CHANGES = ("display_name", "email", "language")


def _require_admin(actor: Actor, what: str) -> None:
    if not actor.is_admin:
        raise Forbidden(f"only administrators may {what}")


def _group_name(name: Any) -> str:
    if not isinstance(name, str) or not name.strip():
        raise ValidationError({"name": "is required"})
    if len(name.strip()) > 150:
        raise ValidationError({"name": f"is {len(name.strip())} characters long; at most 150 are allowed"})
    return name.strip()


def _resolve_group(conn: sa.Connection, ref: Any) -> sa.Row:
    if isinstance(ref, bool) or not isinstance(ref, (int, str)):
        raise ValidationError({"group": "must be a group id or name"})
    column = _groups.c.id if isinstance(ref, int) else _groups.c.name
    row = conn.execute(sa.select(_groups).where(column == ref)).first()
    if row is None:
        raise NotFound(f"there is no group {ref!r}")
    return row


def _resolve_user(conn: sa.Connection, ref: Any) -> UserRow:
    row = conn.execute(sa.select(_users).where(_users.c.id == ref)).first() \
        if isinstance(ref, int) and not isinstance(ref, bool) else _find(conn, ref)
    if row is None:
        raise NotFound(f"there is no user {ref!r}")
    return row


def create_group(db: Database, actor: Actor, name: str, description: str = "") -> sa.Row:
    """A group (a role, department, branch …) that rights are given to."""
    _require_admin(actor, "create groups")
    name = _group_name(name)
    if not isinstance(description, str) or len(description) > 2000:
        raise ValidationError({"description": "must be a text of at most 2000 characters"})
    try:
        with db.write() as conn:
            if conn.execute(sa.select(_groups.c.id).where(sa.func.lower(_groups.c.name) == name.lower())).first():
                raise ValidationError({"name": f"a group named '{name}' already exists"})
            gid = conn.execute(sa.insert(_groups).values(name=name, description=description)
                               .returning(_groups.c.id)).scalar_one()
            bump_rights_version(conn)
            return conn.execute(sa.select(_groups).where(_groups.c.id == gid)).one()
    except IntegrityError:
        raise ValidationError({"name": f"a group named '{name}' already exists"}) from None


def update_group(db: Database, actor: Actor, group: Any, *, name: str | None = None,
                 description: str | None = None) -> sa.Row:
    _require_admin(actor, "change groups")
    with db.write() as conn:
        row = _resolve_group(conn, group)
        values: dict[str, Any] = {}
        if name is not None:
            values["name"] = _group_name(name)
            clash = conn.execute(sa.select(_groups.c.id).where(
                sa.func.lower(_groups.c.name) == values["name"].lower(), _groups.c.id != row.id)).first()
            if clash:
                raise ValidationError({"name": f"a group named '{values['name']}' already exists"})
        if description is not None:
            if not isinstance(description, str) or len(description) > 2000:
                raise ValidationError({"description": "must be a text of at most 2000 characters"})
            values["description"] = description
        if values:
            conn.execute(sa.update(_groups).where(_groups.c.id == row.id).values(**values))
            bump_rights_version(conn)
        return conn.execute(sa.select(_groups).where(_groups.c.id == row.id)).one()


def delete_group(db: Database, actor: Actor, group: Any) -> None:
    """Delete a group with its memberships, rights, rule views and shares."""
    _require_admin(actor, "delete groups")
    with db.write() as conn:
        row = _resolve_group(conn, group)
        conn.execute(sa.delete(_groups).where(_groups.c.id == row.id))  # the rest cascades
        bump_rights_version(conn)


def list_groups(db: Database) -> list[dict[str, Any]]:
    with db.read() as conn:
        counts = dict(conn.execute(sa.select(_members.c.group_id, sa.func.count()).group_by(_members.c.group_id)).all())
        return [{"id": r.id, "name": r.name, "description": r.description, "members": counts.get(r.id, 0)}
                for r in conn.execute(sa.select(_groups).order_by(_groups.c.name))]


def group_members(db: Database, group: Any) -> list[str]:
    with db.read() as conn:
        row = _resolve_group(conn, group)
        return list(conn.execute(sa.select(_users.c.username).join(_members, _members.c.user_id == _users.c.id)
                                 .where(_members.c.group_id == row.id).order_by(_users.c.username)).scalars())


def add_member(db: Database, actor: Actor, user: Any, group: Any) -> None:
    """Put a user into a group (many-to-many). Admins only: nobody adds themselves."""
    _require_admin(actor, "add users to groups")
    with db.write() as conn:
        u, g = _resolve_user(conn, user), _resolve_group(conn, group)
        if conn.execute(sa.select(_members.c.user_id).where(_members.c.user_id == u.id,
                                                           _members.c.group_id == g.id)).first() is None:
            conn.execute(sa.insert(_members).values(user_id=u.id, group_id=g.id))


def remove_member(db: Database, actor: Actor, user: Any, group: Any) -> None:
    _require_admin(actor, "remove users from groups")
    with db.write() as conn:
        u, g = _resolve_user(conn, user), _resolve_group(conn, group)
        conn.execute(sa.delete(_members).where(_members.c.user_id == u.id, _members.c.group_id == g.id))


def update_user(db: Database, actor: Actor, user: Any, **changes: Any) -> UserRow:
    """Change display name, e-mail, language (the user themselves or an admin), active
    and admin flag (admins only; the last active admin cannot be demoted or deactivated)."""
    unknown = set(changes) - set(USER_CHANGES)
    if unknown:
        raise ValidationError({k: "cannot be changed here" for k in sorted(unknown)})
    with db.write() as conn:
        row = _resolve_user(conn, user)
        if not actor.is_admin and (row.id != actor.user_id or set(changes) - set(SELF_CHANGES)):
            raise Forbidden("only administrators may change other users, the active and the admin flag")
        values: dict[str, Any] = {}
        if "display_name" in changes:
            name = changes["display_name"]
            if not isinstance(name, str) or len(name) > 200:
                raise ValidationError({"display_name": "must be a text of at most 200 characters"})
            values["display_name"] = name.strip() or row.username
        if "email" in changes:
            email = changes["email"] or ""
            if not isinstance(email, str) or (email and not EMAIL_RE.match(email)) or len(email) > 254:
                raise ValidationError({"email": f"{email!r} is not an e-mail address"})
            values["email"] = email
        if "language" in changes:
            if changes["language"] not in LANGUAGES:
                raise ValidationError({"language": f"{changes['language']!r} is not supported; use en or de"})
            values["language"] = changes["language"]
        for flag in ("active", "is_admin"):
            if flag in changes:
                if not isinstance(changes[flag], bool):
                    raise ValidationError({flag: "must be true or false"})
                values[flag] = changes[flag]
        if row.is_admin and row.active and (values.get("active") is False or values.get("is_admin") is False):
            others = conn.execute(sa.select(sa.func.count()).select_from(_users).where(
                _users.c.is_admin.is_(True), _users.c.active.is_(True), _users.c.id != row.id)).scalar_one()
            if not others:
                raise ValidationError({"is_admin": "the last active administrator cannot be demoted or deactivated"})
        if values:
            conn.execute(sa.update(_users).where(_users.c.id == row.id).values(**values))
        return conn.execute(sa.select(_users).where(_users.c.id == row.id)).one()
