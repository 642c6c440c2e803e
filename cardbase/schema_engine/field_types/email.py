"""E-mail addresses. The domain is stored lower-case (domains are case-insensitive);
the local part is kept as typed, but equality filters ignore case, as mail servers do."""
from __future__ import annotations

import re
from typing import Any

import marshmallow as ma
import sqlalchemy as sa

from .base import TEXTUAL, FieldType, FieldValueError
from .decimal import shown
from .registry import register
from .options import _l
from .truth import t_compare, t_in, t_not
from ..i18n import _

MAX_EMAIL = 254  # RFC 5321 path limit
_NAMED = re.compile(r"^[^<>]*<([^<>]+)>$")  # "Ann Lee <ann@example.com>"
_VALIDATE = ma.validate.Email()


def normalise_email(raw: Any) -> str:
    """'mailto:Ann@Example.COM' -> 'Ann@example.com', or FieldValueError."""
    if not isinstance(raw, str):
        raise FieldValueError(_('must be an e-mail address, not %(value)s', value=shown(raw)))
    text = raw.strip()
    if text.lower().startswith("mailto:"):
        text = text[7:].strip()
    if len(text) > MAX_EMAIL:
        raise FieldValueError(_('is %(length)s characters long; at most %(max_email)s are allowed',
                                length=len(text), max_email=MAX_EMAIL))
    try:
        _VALIDATE(text)
    except ma.ValidationError:
        raise FieldValueError(_('%(value)s is not a valid e-mail address (expected e.g. name@example.com)',
                                value=shown(raw))) from None
    local, _at, domain = text.rpartition("@")
    return f"{local}@{domain.lower()}"


@register
class EmailType(FieldType):
    """An e-mail address, validated and searchable."""

    name = "email"
    label = _l("E-mail")
    operators = TEXTUAL
    searchable = True
    unique_fold = "lower"  # INFO@acme.de is info@acme.de: one mailbox, one record

    def sa_type(self, field) -> sa.types.TypeEngine:
        return sa.String(MAX_EMAIL)

    def marshmallow_field(self, field) -> ma.fields.Field:
        return ma.fields.Email(allow_none=True, validate=ma.validate.Length(max=MAX_EMAIL))

    def parse(self, field, raw: Any) -> str | None:
        return None if self.is_empty(raw) else normalise_email(raw)

    def to_json(self, field, value: str | None) -> str | None:
        return value

    def import_value(self, field, text: Any) -> str | None:
        if isinstance(text, str):
            text = text.strip()
            m = _NAMED.match(text)
            if m:
                text = m.group(1)
        return self.parse(field, text)

    def filter_clause(self, field, cols, op: str, value: Any):
        """eq/ne/in compare case-insensitively: Ann@x.org is ann@x.org."""
        col = cols[0]
        if op in ("eq", "ne") and value is not None:
            same = sa.func.lower(col) == value.lower()
            return same if op == "eq" else sa.or_(sa.not_(same), col.is_(None))
        if op in ("in", "not_in"):
            inside = sa.func.lower(col).in_([None if v is None else v.lower() for v in value])
            return inside if op == "in" else sa.or_(sa.not_(inside), col.is_(None))
        return super().filter_clause(field, cols, op, value)

    def filter_match(self, field, op: str, value: Any, current: Any):
        low = None if current is None else current.lower()
        if op in ("eq", "ne") and value is not None:
            same = t_compare(low, "eq", value.lower())
            return same if op == "eq" else (True if low is None else t_not(same))
        if op in ("in", "not_in"):
            inside = t_in(low, [None if v is None else v.lower() for v in value])
            return inside if op == "in" else (True if low is None else t_not(inside))
        return super().filter_match(field, op, value, current)
