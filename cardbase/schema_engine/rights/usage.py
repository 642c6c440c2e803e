"""Rule views name fields (by id): removing such a field is refused with the views named."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import Connection

from ..meta_models import Group
from ..snapshot import FieldInfo, Schema
from ..usage import field_finder, referenced_field_ids
from ..rights_models import RuleView


@field_finder
def _rule_views(conn: Connection, schema: Schema, field: FieldInfo) -> list[str]:
    rows = conn.execute(sa.select(RuleView.name, RuleView.filter, Group.name.label("group_name"))
                        .join(Group, Group.id == RuleView.group_id))
    return [f"rule view '{r.name}' of group '{r.group_name}' uses it"
            for r in rows if field.id in referenced_field_ids(r.filter)]
