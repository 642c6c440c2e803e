"""Yes/no (a checkbox)."""
from __future__ import annotations

from typing import Any

import marshmallow as ma
import sqlalchemy as sa

from .base import FieldType, FieldValueError
from .decimal import shown
from .registry import register
from .options import _l
from ..i18n import _

TRUE_WORDS = frozenset({"true", "yes", "y", "1", "on", "ja", "j", "wahr", "x"})
FALSE_WORDS = frozenset({"false", "no", "n", "0", "off", "nein", "falsch"})


@register
class BooleanType(FieldType):
    """A checkbox. An unchecked box and an unset one both count as "no" in filters."""

    name = "boolean"
    label = _l("Yes/No")
    operators = ("eq", "ne", "is_empty", "is_not_empty")
    value_type = "boolean"
    supports_unique = False

    def sa_type(self, field) -> sa.types.TypeEngine:
        return sa.Boolean(create_constraint=False)

    def marshmallow_field(self, field) -> ma.fields.Field:
        return ma.fields.Boolean(allow_none=True, truthy=set(TRUE_WORDS), falsy=set(FALSE_WORDS))

    def parse(self, field, raw: Any) -> bool | None:
        if raw is None or raw == "":
            return None
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, int) and raw in (0, 1):
            return bool(raw)
        if isinstance(raw, str):
            word = raw.strip().lower()
            if word in TRUE_WORDS:
                return True
            if word in FALSE_WORDS:
                return False
        raise FieldValueError(_('%(value)s is not yes or no (use true/false, yes/no or 1/0)', value=shown(raw)))

    def is_empty(self, value: Any) -> bool:
        return value is None or value == ""

    def to_json(self, field, value: bool | None) -> bool | None:
        return value

    def from_db(self, field, values) -> bool | None:
        return None if values[0] is None else bool(values[0])

    def format(self, field, value: bool | None, locale: str = "en") -> str:
        if value is None:
            return ""
        de = (locale or "").lower().startswith("de")
        return ("Ja" if value else "Nein") if de else ("Yes" if value else "No")

    def filter_clause(self, field, cols, op: str, value: Any):
        col = cols[0]
        if op in ("eq", "ne") and value is not None:
            want = value if op == "eq" else not value
            return col == sa.true() if want else sa.or_(col == sa.false(), col.is_(None))
        return super().filter_clause(field, cols, op, value)

    def filter_match(self, field, op: str, value: Any, current: Any):
        if op in ("eq", "ne") and value is not None:
            want = value if op == "eq" else not value
            if want:
                return None if current is None else current is True
            return current is None or current is False
        return super().filter_match(field, op, value, current)
