"""Types of the built-in system columns (id, version, created/modified at/by). The record
store writes them; users only read, filter and sort."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from .base import ORDERED
from .datetime_type import DateTimeType
from .integer import IntegerType
from .registry import register
from .options import _l
from .user import UserType


class _SystemMixin:
    writable = False
    system_only = True
    supports_default = False


@register
class RecordIdType(_SystemMixin, IntegerType):
    """The record's id: a plain number, never grouped ("1234", not "1,234")."""

    name = "record_id"
    label = _l("Record id")
    operators = ORDERED
    indexed = False  # the primary key is indexed already

    def format(self, field, value: Any, locale: str = "en") -> str:
        return "" if value is None else str(value)


@register
class RecordVersionType(RecordIdType):
    """The optimistic-locking version, bumped by every write."""

    name = "record_version"
    label = _l("Version")

    def sa_type(self, field) -> sa.types.TypeEngine:
        return sa.Integer()


@register
class CreatedAtType(_SystemMixin, DateTimeType):
    name = "created_at"
    label = _l("Created at")
    indexed = True


@register
class ModifiedAtType(_SystemMixin, DateTimeType):
    name = "modified_at"
    label = _l("Modified at")
    indexed = True


@register
class CreatedByType(_SystemMixin, UserType):
    name = "created_by"
    label = _l("Created by")


@register
class ModifiedByType(_SystemMixin, UserType):
    name = "modified_by"
    label = _l("Modified by")
