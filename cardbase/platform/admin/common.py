"""What the admin screens share: turning an engine refusal into messages under the right
inputs, reading checkboxes, and the groups and users lists the forms offer."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import request

from cardbase.schema_engine.errors import CardbaseError, InUse, ValidationError
from cardbase.schema_engine.meta_models import Group, User

from ..context import get_db


class Problems(dict):
    """input name -> messages, and ``general`` messages of no single input."""

    def __init__(self) -> None:
        super().__init__()
        self.general: list[str] = []

    def take(self, exc: CardbaseError) -> "Problems":
        if isinstance(exc, ValidationError):
            for key, messages in exc.errors.items():
                self.setdefault(key, []).extend(messages)
        elif isinstance(exc, InUse):
            self.general.append(exc.message)
        else:
            self.general.append(exc.message)
        return self

    def __bool__(self) -> bool:
        return bool(self.general) or bool(dict(self))


def status_of(exc: CardbaseError) -> int:
    """The HTTP status a refused form is shown again with (422 bad input, 409 stale)."""
    return getattr(exc, "status", 400) or 400


def checked(name: str) -> bool:
    return request.form.get(name) in ("1", "on", "true", "yes")


def all_groups() -> list[sa.Row]:
    with get_db().read() as conn:
        return conn.execute(sa.select(Group.id, Group.name, Group.description).order_by(Group.name)).all()


def all_users(active_only: bool = False) -> list[sa.Row]:
    query = sa.select(User.id, User.username, User.display_name, User.active, User.is_admin).order_by(User.username)
    if active_only:
        query = query.where(User.active.is_(True))
    with get_db().read() as conn:
        return conn.execute(query).all()


def int_arg(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
