"""The configurator (Flask blueprint "designer" under /designer): objects, fields, links,
formulas, the card and table designers, the configuration log and solutions.

It is a client of ``schema_engine`` like any other: every change goes through
``SchemaService`` / ``layouts`` with the acting user, which check the configure right
themselves; the guard here only keeps people without any configure right out of the
screens (no menu entry, 403 from the server). One module per screen.
"""
from __future__ import annotations

from flask import Blueprint, Flask, abort

from cardbase.schema_engine.rights.admin import can_configure

bp = Blueprint("designer", __name__, url_prefix="/designer", template_folder="templates",
               static_folder="static", static_url_path="/static")


@bp.before_request
def _require_configure_right():
    from cardbase.platform.context import current_actor, get_db

    if not can_configure(get_db(), current_actor()):
        abort(403)


from . import home  # noqa: E402,F401  (routes register on bp)
from . import objects  # noqa: E402,F401
from . import fields  # noqa: E402,F401
from . import formula_editor  # noqa: E402,F401
from . import cards, log, rules, solution, tables  # noqa: E402,F401  (card/table designers, rules, log, solutions)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
