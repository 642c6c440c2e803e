""""Why can she see this?": an admin picks a user and a record (or only an object) and
sees, per right, which rule grants or denies it (``rights.explain``, computed from the
very terms the row filter uses), and per field its level and why. From here the admin
can open the lists as that user, read-only (``view_as``)."""
from __future__ import annotations

import sqlalchemy as sa
from flask import render_template, request
from flask_babel import gettext as _

from cardbase.schema_engine import rights
from cardbase.schema_engine.accounts import users as accounts
from cardbase.schema_engine.errors import CardbaseError
from cardbase.schema_engine.meta_models import Group
from cardbase.schema_engine.rights.models import OBJECT_RIGHTS, ObjectRight, RecordScope

from ..context import actor_for, get_db, get_store
from . import bp
from .common import Problems, all_users, int_arg
from .rights import RIGHT_LABELS, SCOPE_LABELS


def _object_view(actor, obj) -> dict:
    """Without a record: what the user may do with the object, and each of their groups'
    rights and record scope on it."""
    with get_store().session(actor) as s:
        caps = s.capabilities(obj)
        may = {r: s.can(obj, r) for r in OBJECT_RIGHTS}
        levels = {f.api_name: caps.level(f) for f in obj.fields if f.id is not None}
    cols = [getattr(ObjectRight, f"may_{r}") for r in OBJECT_RIGHTS]
    with get_db().read() as conn:
        names = dict(conn.execute(sa.select(Group.id, Group.name)).all())
        held = {row[0]: [r for r, f in zip(OBJECT_RIGHTS, row[1:]) if f] for row in conn.execute(
            sa.select(ObjectRight.group_id, *cols).where(ObjectRight.object_id == obj.id,
                                                        ObjectRight.group_id.in_(sorted(actor.group_ids))))}
        scopes = dict(conn.execute(sa.select(RecordScope.group_id, RecordScope.scope).where(
            RecordScope.object_id == obj.id, RecordScope.group_id.in_(sorted(actor.group_ids)))).all())
    groups = [{"name": names.get(g, "?"), "rights": held.get(g, []), "scope": scopes.get(g)}
              for g in sorted(actor.group_ids, key=lambda g: names.get(g, ""))]
    return {"may": may, "groups": groups, "fields": levels}


@bp.route("/explain")
def explain():
    problems = Problems()
    schema = get_db().schema()
    user_id, object_name = int_arg(request.args.get("user")), request.args.get("object", "")
    record = request.args.get("record", "").strip()
    result = object_view = None
    user = accounts.get_user(get_db(), user_id) if user_id is not None else None
    status = 200
    if request.args:
        if user is None:
            problems["user"] = [_("Choose a user.")]
        if not schema.has_object(object_name):
            problems["object"] = [_("Choose an object.")]
        if record and int_arg(record) is None:
            problems["record"] = [_("A record is given by its number (id).")]
        if not problems and user is not None:
            actor = actor_for(user, get_db())
            obj = schema.object(object_name)
            try:
                if record:
                    result = rights.explain(get_db(), actor, obj.api_name, int(record))
                else:
                    object_view = _object_view(actor, obj)
            except CardbaseError as exc:
                problems.setdefault("record", []).append(exc.message)
        status = 422 if problems else 200
    return render_template("admin/explain.html", users=all_users(active_only=True), objects=schema.objects,
                           user=user, object_name=object_name, record=record, result=result,
                           object_view=object_view, problems=problems, right_labels=RIGHT_LABELS,
                           scope_labels=SCOPE_LABELS, nav_active="explain"), status
