"""The configurator (Flask blueprint "designer" under /designer): objects, fields, links,
formulas, the card and table designers, the configuration log and solutions.

It is a client of ``schema_engine`` like any other: every change goes through the app's
schema service (``context.get_schema_service``) / ``layouts`` with the acting user, which
check the configure right themselves; reads and rights questions go through the request's
engine session (``context.engine_session``). The guard here only keeps people without any
configure right out of the screens (no menu entry, 403 from the server). One module per
screen.

Schema changes run in their own write transaction: a designer request never opens a
write session (on SQLite it would hold the lock the change waits for), only the read
session of its rights questions; pages shown after a change come from a redirect (a new
request, a new session).
"""
from __future__ import annotations

from flask import Blueprint, Flask, abort

bp = Blueprint("designer", __name__, url_prefix="/designer", template_folder="templates",
               static_folder="static", static_url_path="/static")


@bp.before_request
def _require_configure_right():
    from cardbase.platform.context import engine_session

    s = engine_session()
    if not (s.can(None, "configure") or s.objects_with("configure")):  # admins, or configure on some object
        abort(403)


from . import home  # noqa: E402,F401  (routes register on bp)
from . import objects  # noqa: E402,F401
from . import fields  # noqa: E402,F401
from . import formula_editor  # noqa: E402,F401
from . import cards, log, rules, solution, tables  # noqa: E402,F401  (card/table designers, rules, log, solutions)
from . import documents  # noqa: E402,F401  (Word templates)
from . import currencies  # noqa: E402,F401  (base currency and exchange rates)
from . import automation  # noqa: E402,F401  (scenarios and webhooks)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
