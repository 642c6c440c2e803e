"""The Share dialog on the card: share the record with a user or a group at read, change
or full, see its current shares, end one, and give the record to another owner. Every
change is an operation of the engine's pipeline (``store/sharing.py``, ``OwnerOp``), so
the same rights as in the API hold: nobody passes on more than they hold, ending someone
else's share or changing the owner needs full access. A refusal comes back to the card as
a message; nothing is changed."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext as _

from cardbase.schema_engine.errors import CardbaseError, ValidationError
from cardbase.schema_engine.meta_models import Group, User
from cardbase.schema_engine.rights.model import current_model
from cardbase.schema_engine.rights.models import LEVELS
from cardbase.schema_engine.store.sharing import share_rows

from ..context import engine_session

bp = Blueprint("sharing", __name__)


def share_block(obj, record: dict[str, Any], held: dict[str, bool] | None = None) -> dict[str, Any] | None:
    """What the dialog shows for one record the card has read: its shares, who it may be
    shared with, the levels the reader may pass on (``held``: the card's record rights),
    and whether they may give it away. None when the record's access follows its parent
    (its shares would not count). The record is not read again."""
    s = engine_session()
    if obj.id in current_model(s.conn, s.schema).parents:
        return None
    held = dict(held) if held is not None else s.record_rights(obj, record["id"])
    mine = 3 if held.get("edit") and held.get("delete") else 2 if held.get("edit") else 1
    people = s.conn.execute(sa.select(User.id, User.username, User.display_name)
                            .where(User.active.is_(True)).order_by(User.display_name)).all()
    groups = s.conn.execute(sa.select(Group.id, Group.name).order_by(Group.name)).all()
    return {"shares": share_rows(s.conn, obj, record["id"]), "users": people, "groups": groups,
            "levels": list(LEVELS[:mine]), "may_give": all(held.values()), "owner": record.get("owner")}


def _back(object_name: str, record_id: int):
    return redirect(url_for("cards.card", object_name=object_name, record_id=record_id) + "#cb-share")


def _grantee() -> dict[str, Any]:
    who = request.form.get("grantee", "")
    kind, _sep, ref = who.partition(":")
    if kind not in ("user", "group") or not ref.isdigit():
        raise ValidationError({"grantee": _("Choose a user or a group to share with.")})
    return {kind: int(ref)}


@bp.route("/o/<object_name>/<int:record_id>/share", methods=["POST"])
def share(object_name: str, record_id: int):
    try:
        s = engine_session(write=True)
        s.share(object_name, record_id, level=request.form.get("level", "read"), **_grantee())
    except CardbaseError as exc:
        flash(_("Not shared: %(reason)s", reason=exc.message), "danger")
    else:
        flash(_("Shared."), "success")
    return _back(object_name, record_id)


@bp.route("/o/<object_name>/<int:record_id>/unshare", methods=["POST"])
def unshare(object_name: str, record_id: int):
    try:
        engine_session(write=True).unshare(object_name, record_id, **_grantee())
    except CardbaseError as exc:
        flash(_("The share was not ended: %(reason)s", reason=exc.message), "danger")
    else:
        flash(_("The share was ended."), "success")
    return _back(object_name, record_id)


@bp.route("/o/<object_name>/<int:record_id>/owner", methods=["POST"])
def owner(object_name: str, record_id: int):
    try:
        user = int(request.form.get("owner", ""))
    except ValueError:
        flash(_("Choose the new owner."), "danger")
        return _back(object_name, record_id)
    try:
        still = engine_session(write=True).set_owner(object_name, record_id, user)
    except CardbaseError as exc:
        flash(_("The owner was not changed: %(reason)s", reason=exc.message), "danger")
        return _back(object_name, record_id)
    flash(_("The record has a new owner."), "success")
    if still is None:  # given away out of the giver's reach
        return redirect(url_for("lists.index", object_name=object_name))
    return _back(object_name, record_id)
