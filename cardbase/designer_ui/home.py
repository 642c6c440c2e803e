"""The configurator's start page: the objects the user may configure, in menu order, with
links to each object's designer; administrators create objects and set the menu order."""
from __future__ import annotations

from flask import render_template

from cardbase.platform.context import current_actor, engine_session
from cardbase.platform.web.nav import object_label
from cardbase.schema_engine.accounts.policy import ADMIN

from . import bp


@bp.route("/")
def index():
    actor = current_actor()
    s = engine_session()
    schema = s.schema
    ordered = sorted(schema.objects, key=lambda o: (o.position, o.id))
    objects = [{"name": o.api_name, "label": object_label(o, plural=True), "singular": object_label(o),
                "fields": len(o.user_fields), "description": o.description}
               for o in s.objects_with("configure")]
    return render_template("designer/index.html", objects=objects, may_create=ADMIN.is_admin(actor),
                           may_order=ADMIN.is_admin(actor), schema_version=schema.version,
                           order=",".join(o.api_name for o in ordered))
