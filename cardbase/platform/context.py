"""Request-scoped access to the engine: the Database, the acting user and the request's
one engine session.

The app factory is the composition root: it builds the Database, the RecordStore and the
SchemaService once (``app.extensions``); channels get them here and never construct
engine services themselves. The Actor is built once per request from the logged-in user
or the API token. ``engine_session`` opens the request's one session on first use -- one
transaction, one schema snapshot, one rights object for the whole page or API call -- and
the app closes it after the view: committed when the answer is a success or a redirect,
rolled back when it is an error (400 or more), so an error answer never keeps half a change.
"""
from __future__ import annotations

from contextlib import ExitStack

from flask import Flask, Response, current_app, g, request, session
from flask_login import current_user
from sqlalchemy import Connection

from cardbase.schema_engine.actor import Actor
from cardbase.schema_engine.db import Database
from cardbase.schema_engine.schema_service import SchemaService
from cardbase.schema_engine.store import RecordStore
from cardbase.schema_engine.store.session import Session

from . import users
from .composition import build_engine

API_BLUEPRINT = "api"  # platform/api/blueprint.py
VIEW_AS_KEY = "cardbase_view_as"  # the user an admin views cardbase as (platform/admin/view_as.py)


def get_db() -> Database:
    """The Database of the current app."""
    return current_app.extensions["cardbase"]


def actor_for(user_row, db: Database | None = None, group_ids: frozenset[int] | None = None) -> Actor:
    """The Actor (user id, username, groups, admin flag, language) for a cb_user row.

    Groups are read from cb_user_group now (unless the caller read them with the row), not
    cached in the session, so a change of membership takes effect on the user's next request."""
    if group_ids is None:
        group_ids = users.group_ids(db or get_db(), user_row.id)
    return Actor(user_id=user_row.id, username=user_row.username, group_ids=group_ids,
                 is_admin=bool(user_row.is_admin), language=user_row.language or "en")


def current_actor() -> Actor:
    """The Actor of the logged-in user (cached for the request) -- or, while an admin views
    cardbase as another user (``admin.view_as``, read-only), that user's."""
    actor = g.get("cardbase_actor")
    if actor is None:
        if not current_user.is_authenticated:
            raise RuntimeError("current_actor() needs a logged-in user")
        actor = actor_for(current_user.row, group_ids=current_user.group_ids)
        viewed = session.get(VIEW_AS_KEY) if current_user.is_admin else None
        if viewed is not None and request.blueprint != API_BLUEPRINT:
            row = users.get_user(get_db(), viewed)
            if row is not None and row.active:
                actor = actor_for(row)
        g.cardbase_actor = actor
    return actor


# ---- the composition root and the request's session ------------------------------------------------
def install_engine(app: Flask, db: Database) -> None:
    """Build the engine services once per app (the composition root)."""
    engine = build_engine(db)
    app.extensions["cardbase"] = db
    app.extensions["cardbase_store"] = engine.store
    app.extensions["cardbase_schema_service"] = engine.schema_service
    app.after_request(_finish_session)
    app.teardown_request(_abandon_session)


def get_store() -> RecordStore:
    return current_app.extensions["cardbase_store"]


def get_schema_service() -> SchemaService:
    return current_app.extensions["cardbase_schema_service"]


def engine_session(*, write: bool = False) -> Session:
    """The request's engine session for its actor (the API token's or the signed-in user's).

    Reads open a read transaction; the first ``write=True`` turns it into a write session
    (the reads so far end first: a reader never holds SQLite's write lock longer than it
    must), which the rest of the request then uses."""
    found: Session | None = g.get("cardbase_session")
    if found is not None and (found.writable or not write):
        return found
    opened: Connection | None = g.get("cardbase_read_conn")  # the API's token check began it
    if found is not None or (opened is not None and write):
        _close(commit=True)
        opened = None
    stack = g.pop("cardbase_session_stack", None) if opened is not None else ExitStack()
    actor = g.get("cardbase_actor") or current_actor()
    # An API call never goes on after a failed change (the error is its answer, and an
    # answer of 400 or more rolls the session back), so its changes need no savepoints;
    # a web page may show a form again after one, so its changes get them.
    savepoints = request.blueprint != API_BLUEPRINT
    found = stack.enter_context(get_store().session(actor, write=write, savepoints=savepoints, conn=opened))
    g.cardbase_session, g.cardbase_session_stack = found, stack
    return found


def request_read_transaction() -> Connection:
    """Begin the request's read transaction now (the API's token check reads in it); the
    request's read session later goes on in it, so a GET costs one transaction, not two.
    A write session ends it first; the app ends it after the view like any session."""
    opened: Connection | None = g.get("cardbase_read_conn")
    if opened is None:
        if g.get("cardbase_session_stack") is not None:
            raise RuntimeError("the request's session is open already")
        stack = ExitStack()
        opened = stack.enter_context(get_db().read())
        g.cardbase_read_conn, g.cardbase_session_stack = opened, stack
    return opened


def end_read_transaction() -> None:
    """End the transaction ``request_read_transaction`` began (before a write elsewhere:
    on SQLite an open reader holds up another connection's commit)."""
    if g.get("cardbase_session") is None:
        _close(commit=True)


def abandon_session() -> None:
    """Roll the request's session back (if one is open), e.g. before the view runs again."""
    _close(commit=False)


def _close(*, commit: bool) -> None:
    stack: ExitStack | None = g.pop("cardbase_session_stack", None)
    g.pop("cardbase_session", None)
    g.pop("cardbase_read_conn", None)
    if stack is None:
        return
    if commit:
        stack.close()  # a failing commit raises here: the request becomes an error
    else:
        failed = RuntimeError("the request failed: its engine session is rolled back")
        stack.__exit__(RuntimeError, failed, None)


def _finish_session(response: Response) -> Response:
    _close(commit=response.status_code < 400)  # an error answer keeps nothing of the request
    return response


def _abandon_session(_exc: BaseException | None) -> None:
    _close(commit=False)  # only still open when the view or after_request failed
