"""The home page (a tile per object the user may read) and the health check."""
from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import Blueprint, jsonify, render_template
from flask_login import login_required

from cardbase.schema_engine.errors import CardbaseError
from cardbase.schema_engine.snapshot import current_version

from .context import engine_session, get_db
from .i18n import current_language

bp = Blueprint("core", __name__)
log = logging.getLogger(__name__)


@bp.route("/")
@login_required
def home():
    from .web.dashboards import home_dashboard  # a group's default dashboard replaces the count tiles
    board = home_dashboard()
    if board is not None:
        return board
    s = engine_session()
    rows = []
    language = current_language()
    for obj in s.objects_with("read"):  # objects the user may not read are not shown at all
        try:
            count, estimate = s.count(obj, purpose="read")
        except CardbaseError:  # show the object, not a number
            count, estimate = None, False
        rows.append({"name": obj.api_name, "label": obj.label_in(language),
                     "label_plural": obj.label_plural_in(language),
                     "count": count, "estimate": estimate})
    return render_template("home.html", objects=rows, unreadable=bool(s.schema.objects) and not rows)


@bp.route("/health")
def health():
    """For load balancers and `cardbase serve` checks: the database answers, and which
    schema version this worker sees. No login, no details of failures (they are logged)."""
    db = get_db()
    try:
        with db.read() as conn:
            conn.execute(sa.text("SELECT 1")).scalar_one()
            version = current_version(conn)
    except Exception:
        log.exception("health check failed")
        return jsonify(status="error", database=db.dialect), 503
    return jsonify(status="ok", database=db.dialect, schema_version=version)
