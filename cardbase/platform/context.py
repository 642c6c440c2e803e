"""Request-scoped access to the Database and the acting user.

The Database lives on ``app.extensions["cardbase"]`` (one engine per process); the
Actor is built once per request from the logged-in user, so every service call in the
request acts with the same user and groups.
"""
from __future__ import annotations

from flask import current_app, g
from flask_login import current_user

from cardbase.schema_engine.actor import Actor
from cardbase.schema_engine.db import Database

from . import users


def get_db() -> Database:
    """The Database of the current app."""
    return current_app.extensions["cardbase"]


def actor_for(user_row, db: Database | None = None) -> Actor:
    """The Actor (user id, username, groups, admin flag, language) for a cb_user row.

    Groups are read from cb_user_group now, not cached in the session, so a change of
    membership takes effect on the user's next request."""
    db = db or get_db()
    return Actor(user_id=user_row.id, username=user_row.username,
                 group_ids=users.group_ids(db, user_row.id), is_admin=bool(user_row.is_admin),
                 language=user_row.language or "en")


def current_actor() -> Actor:
    """The Actor of the logged-in user (cached for the request)."""
    actor = g.get("cardbase_actor")
    if actor is None:
        if not current_user.is_authenticated:
            raise RuntimeError("current_actor() needs a logged-in user")
        actor = actor_for(current_user.row)
        g.cardbase_actor = actor
    return actor
