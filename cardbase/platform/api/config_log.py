"""The configuration change log (cb_config_log): ``GET /api/v1/config-log``.

What the designer's log page shows, as JSON: who changed what and when, newest first,
paged with ``limit`` and ``offset``, optionally for one ``object``. Administrators see
every change; people with the configure right on some objects see the changes to those
objects (the designer's rule, and the engine's ``object_condition`` that finds an object's rows);
without any configure right it is refused.
"""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from cardbase.schema_engine.config_log import object_condition
from cardbase.schema_engine.errors import Forbidden, NotFound
from cardbase.schema_engine.meta_models import ConfigChange, User
from cardbase.schema_engine.query.model import MAX_LIMIT, MAX_OFFSET

from ..context import engine_session
from .blueprint import bp
from .errors import bad_request
from .http import arg_int, arg_text, json_response

DEFAULT_LIMIT = 50


def _scope() -> list[Any]:
    """The WHERE conditions: the rows the caller may see, of the object asked for."""
    s = engine_session()
    actor, schema = s.actor, s.schema
    configurable = s.objects_with("configure")  # admins: every object
    if not actor.is_admin and not configurable:
        raise Forbidden("the configuration log needs the configure right")
    name = arg_text("object", 200)
    if name:
        chosen = next((o for o in configurable if o.api_name == name), None)
        if chosen is None:
            if not schema.has_object(name):
                raise NotFound(f"there is no object '{name}'")
            raise Forbidden(f"the log of '{schema.object(name).label_plural}' needs the configure right")
        return [object_condition(chosen)]
    return [] if actor.is_admin else [sa.or_(*[object_condition(o) for o in configurable])]


def _page() -> tuple[int, int]:
    limit, offset = arg_int("limit"), arg_int("offset")
    limit = DEFAULT_LIMIT if limit is None else limit
    offset = offset or 0
    if not 1 <= limit <= MAX_LIMIT:
        raise bad_request(f"must be a whole number from 1 to {MAX_LIMIT}", "limit")
    if not 0 <= offset <= MAX_OFFSET:
        raise bad_request(f"must be a whole number from 0 to {MAX_OFFSET}", "offset")
    return limit, offset


def _entry(row: Any) -> dict[str, Any]:
    who = row.username or "system"
    return {"id": row.id, "at": row.at, "action": row.action, "target": row.target, "details": row.details,
            "actor": {"id": row.actor_id, "username": who, "display": row.display_name or who}}


@bp.get("/v1/config-log")
def config_log():
    limit, offset = _page()
    where = _scope()
    c, u = ConfigChange.__table__.c, User.__table__.c
    query = (sa.select(c.id, c.at, c.action, c.target, c.details, c.actor_id, u.username, u.display_name)
             .select_from(ConfigChange.__table__.outerjoin(User.__table__, u.id == c.actor_id)).where(*where)
             .order_by(c.at.desc(), c.id.desc()).limit(limit).offset(offset))
    conn = engine_session().conn  # the request's read transaction
    total = conn.execute(sa.select(sa.func.count()).select_from(ConfigChange.__table__).where(*where)).scalar_one()
    rows = conn.execute(query).all()
    return json_response({"data": [_entry(r) for r in rows], "count": total})
