"""Finding the configuration log's rows about an object (cb_config_change).

A row's target names the object first, by API name or id ("deal", "deal.stage",
"deal/view:Leads", "12 …"), so the configurator's log page and the REST API filter it the
same way from here.
"""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from .field_types.base import _like_escape
from .meta_models import ConfigChange
from .snapshot import ObjectInfo


def object_condition(obj: ObjectInfo) -> ColumnElement[bool]:
    """Log rows about one object: the target names it (by API name or id) first."""
    t = ConfigChange.target
    parts = []
    for name in {obj.api_name, str(obj.id)}:
        parts.append(t == name)
        for sep in (".", "/", " ", ":"):
            parts.append(t.like(_like_escape(name + sep) + "%", escape="\\"))
    return sa.or_(*parts)
