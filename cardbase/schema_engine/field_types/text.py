"""Multi-line long text (notes, descriptions) in an unbounded TEXT column."""
from __future__ import annotations

import unicodedata
from typing import Any

import marshmallow as ma
import sqlalchemy as sa

from .base import TEXTUAL, FieldType, FieldValueError
from .registry import register
from .options import _l
from ..i18n import _

MAX_TEXT = 100_000  # characters; bounds request and row sizes


@register
class TextType(FieldType):
    """Long text: line breaks kept (normalised to \\n), outer blank space trimmed."""

    name = "text"
    label = _l("Long text")
    operators = TEXTUAL
    searchable = True
    supports_unique = False

    def sa_type(self, field) -> sa.types.TypeEngine:
        return sa.Text()

    def marshmallow_field(self, field) -> ma.fields.Field:
        return ma.fields.String(allow_none=True, validate=ma.validate.Length(max=MAX_TEXT))

    def parse(self, field, raw: Any) -> str | None:
        if isinstance(raw, (int, float)) and not isinstance(raw, bool):
            raw = str(raw)  # a number typed into a text field is still text
        if raw is not None and not isinstance(raw, str):
            raise FieldValueError(_("must be a text"))
        value = super().parse(field, raw)
        if value is None:
            return None
        value = value.replace("\r\n", "\n").replace("\r", "\n").strip()
        if any(unicodedata.category(c) == "Cc" and c not in "\n\t" for c in value):
            raise FieldValueError(_("must not contain control characters"))
        return value or None

    def to_json(self, field, value: str | None) -> str | None:
        return value

    def convert_from(self, field, source, value: Any) -> str | None:
        """Any value becomes its displayed text ("1,234.50 EUR", "Yes", a choice's label)."""
        if value is None:
            return None
        return self.parse(field, source.ftype.format(source, value, "en"))
