"""The log of configuration changes (cb_config_log): who, when, what, newest first,
paged, filtered by object. Administrators see every change; people with the configure
right on some objects see the changes to those objects."""
from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from flask import abort, render_template, request
from flask_babel import format_datetime, gettext as _

from cardbase.platform.context import current_actor, engine_session
from cardbase.platform.web.nav import object_label
from cardbase.schema_engine.config_log import object_condition
from cardbase.schema_engine.meta_models import ConfigChange, User

from . import bp

PAGE_SIZE = 50
MAX_PAGE = 100_000


def action_words() -> dict[str, str]:
    return {
        "create_object": _("object created"), "update_object": _("object changed"), "delete_object": _("object deleted"),
        "add_field": _("field added"), "update_field": _("field changed"), "remove_field": _("field removed"),
        "reorder_fields": _("fields reordered"), "set_translations": _("translations set"),
        "save_card": _("card saved"), "delete_card": _("card deleted"), "save_table": _("table saved"),
        "reset_table": _("table reset"), "delete_table": _("table deleted"), "save_view": _("shared view saved"),
        "delete_view": _("shared view deleted"),
        "batch": _("solution imported"), "share": _("record shared"), "unshare": _("record share removed"),
        "rights.object": _("object rights set"), "rights.mode": _("access mode set"),
        "rights.field": _("field rights set"), "rights.rule_view": _("rule view saved"),
        "rights.rule_view.delete": _("rule view deleted"),
    }


def _details(details: Any) -> str:
    if not details:
        return ""
    if isinstance(details, dict):
        shown = []
        for key, value in details.items():
            text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
            shown.append(f"{key}: {text}")
        return "; ".join(shown)[:500]
    return str(details)[:500]


@bp.route("/log")
def config_log():
    actor = current_actor()
    s = engine_session()
    schema = s.schema
    configurable = s.objects_with("configure")  # in menu order; admins: every object
    chosen_name = request.args.get("object") or ""
    chosen = None
    if chosen_name:
        chosen = next((o for o in configurable if o.api_name == chosen_name), None)
        if chosen is None:
            abort(404 if not schema.has_object(chosen_name) else 403)
    try:
        page = max(1, min(int(request.args.get("page", "1")), MAX_PAGE))
    except ValueError:
        page = 1
    conditions = []
    if chosen is not None:
        conditions.append(object_condition(chosen))
    elif not actor.is_admin:
        conditions.append(sa.or_(*[object_condition(o) for o in configurable]) if configurable else sa.false())
    c = ConfigChange.__table__.c
    u = User.__table__.c
    query = (sa.select(c.id, c.at, c.action, c.target, c.details, u.display_name, u.username)
             .select_from(ConfigChange.__table__.outerjoin(User.__table__, u.id == c.actor_id))
             .where(*conditions))
    conn = s.conn  # the page's one transaction
    total = conn.execute(sa.select(sa.func.count()).select_from(ConfigChange.__table__).where(*conditions)).scalar_one()
    rows = conn.execute(query.order_by(c.at.desc(), c.id.desc())
                        .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    words = action_words()
    entries = [{"id": r.id, "when": format_datetime(r.at, "medium") if r.at else "",
                "when_iso": r.at.isoformat() + "Z" if r.at else "",
                "who": (r.display_name or r.username) if r.username else _("the system"),
                "action": words.get(r.action, r.action), "action_code": r.action, "target": r.target,
                "details": _details(r.details)} for r in rows]
    pages = max(1, (total + PAGE_SIZE - 1) // PAGE_SIZE)
    return render_template("designer/log.html", entries=entries, page=page, pages=pages, total=total,
                           objects=[{"name": o.api_name, "label": object_label(o)} for o in configurable],
                           chosen=chosen, nav_object=chosen, is_admin=actor.is_admin)
