"""A person who can log in (an owner, an assignee): a foreign key to ``cb_user.id``."""
from __future__ import annotations

from typing import Any

import marshmallow as ma
import sqlalchemy as sa

from .base import EQUALITY, FieldType
from .link import parse_record_id
from .registry import register
from .options import _l

USER_TABLE_COLUMN = "cb_user.id"


@register
class UserType(FieldType):
    """A user of this cardbase; the value is the user's id."""

    name = "user"
    label = _l("User")
    operators = EQUALITY
    value_type = "link"
    indexed = True
    dynamic_defaults = ("me",)  # the user who creates the record ("assigned to me")

    def dynamic_default(self, field, word: str, user_id: int | None) -> int | None:
        return user_id

    def sa_type(self, field) -> sa.types.TypeEngine:
        return sa.BigInteger()

    def foreign_key(self, field, schema) -> str | None:
        return USER_TABLE_COLUMN

    def marshmallow_field(self, field) -> ma.fields.Field:
        return ma.fields.Integer(allow_none=True, strict=True)

    def parse(self, field, raw: Any) -> int | None:
        return None if self.is_empty(raw) else parse_record_id(raw, "a user")

    def to_json(self, field, value: int | None) -> int | None:
        return value

    def from_db(self, field, values) -> int | None:
        return None if values[0] is None else int(values[0])
