"""Single-line text with a maximum length."""
from __future__ import annotations

from typing import Any

import marshmallow as ma
import sqlalchemy as sa

from .base import TEXTUAL, FieldType, FieldValueError
from .options import INT, OptionSpec, _l
from .registry import register
from ..i18n import _

DEFAULT_LENGTH = 255
MAX_LENGTH = 10_000


@register
class StringType(FieldType):
    name = "string"
    label = _l("Text (one line)")
    operators = TEXTUAL
    searchable = True
    indexed = False

    options = (
        OptionSpec("length", INT, default=DEFAULT_LENGTH, minimum=1, maximum=MAX_LENGTH,
                   label=_l("Maximum length (characters)"), help=_l("1 to 10,000; default 255")),
    )

    def sa_type(self, field) -> sa.types.TypeEngine:
        return sa.String(field.options.get("length", DEFAULT_LENGTH))

    def marshmallow_field(self, field) -> ma.fields.Field:
        length = field.options.get("length", DEFAULT_LENGTH)
        return ma.fields.String(allow_none=True, validate=ma.validate.Length(max=length))

    def parse(self, field, raw: Any) -> Any:
        if isinstance(raw, (int, float)) and not isinstance(raw, bool):
            raw = str(raw)  # a number typed into a text field is still text
        value = super().parse(field, raw)
        if isinstance(value, str):
            value = value.strip()
            if "\n" in value or "\r" in value:
                raise FieldValueError(_("must be a single line (use a long text field for several lines)"))
            if any(ord(c) < 32 and c != "\t" for c in value):
                raise FieldValueError(_("must not contain control characters"))
        return value or None

    def convert_from(self, field, source, value: Any) -> Any:
        """Any type becomes text as people see it ("1,234.50 EUR", "Yes", a choice label)."""
        if value is None:
            return None
        text = source.ftype.format(source, value).replace("\r", " ").replace("\n", " ")
        return self.parse(field, text)
