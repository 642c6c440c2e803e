"""The seam where rights enter the record store.

Every read and write of the store asks the policy: may the actor do this to the object,
which rows may it see (a WHERE clause the query compiler adds), which fields may it read
or write. The policy below lets every signed-in user do everything; the rights issue
replaces it with group, record, field and rule rights without touching any channel.
"""
from __future__ import annotations

from typing import Callable, Optional

import sqlalchemy as sa

from ..actor import Actor
from ..snapshot import FieldInfo, ObjectInfo

RIGHTS = ("read", "create", "edit", "delete", "export", "print", "report", "configure")


class AccessPolicy:
    """Open policy: everyone may do everything (the rights system narrows it)."""

    def can(self, actor: Actor, obj: ObjectInfo, right: str) -> bool:
        return True

    def row_filter(self, actor: Actor, obj: ObjectInfo, table: sa.Table) -> Optional[sa.ColumnElement]:
        return None

    def field_readable(self, actor: Actor, obj: ObjectInfo) -> Optional[Callable[[FieldInfo], bool]]:
        return None

    def field_writable(self, actor: Actor, obj: ObjectInfo, field: FieldInfo) -> bool:
        return True
