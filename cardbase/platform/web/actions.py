"""Undo from the notice a write leaves ("Saved. Undo", "Moved to the trash. Undo").

``actions.undo``  POST /actions/<id>/undo   (form: csrf_token, next)  reverts one of the
                  user's own actions through the request's write session (the engine
                  checks it is theirs, not undone yet and that no record changed since),
                  then goes back to ``next`` with "Undone." or the engine's message why not.
"""
from __future__ import annotations

from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext as _

from cardbase.schema_engine.errors import Conflict, Forbidden, InUse, NotFound, ValidationError

from ..auth import is_safe_next
from .engine import engine_session

bp = Blueprint("actions", __name__)


@bp.route("/actions/<int:action_id>/undo", methods=["POST"])
def undo(action_id: int):
    target = request.form.get("next")
    back = target if is_safe_next(target) else url_for("core.home")
    try:
        engine_session(write=True).undo(action_id)
    except (Conflict, Forbidden, NotFound, InUse, ValidationError) as exc:
        flash(_("Not undone: %(reason)s", reason=exc.message), "error")
        return redirect(back)
    flash(_("Undone."), "success")
    return redirect(back)
