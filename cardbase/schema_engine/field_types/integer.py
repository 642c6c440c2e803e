"""Whole numbers (counts, years, quantities) in a 64-bit column."""
from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import marshmallow as ma
import sqlalchemy as sa

from .base import ORDERED, FieldType, FieldValueError
from .decimal import (check_in_limits, check_limit_options, format_number, limit_options, parse_number_text, shown,
                      to_decimal)
from .registry import register
from .options import _l
from ..i18n import _

MIN_INT, MAX_INT = -(2**63), 2**63 - 1
_DIGITS = re.compile(r"^[+-]?\d{1,30}$")
# "1 234", "1,234,567", "1.234", "1'234": one separator, used consistently, in groups of three.
_GROUPED = re.compile(r"^[+-]?\d{1,3}([ .,'\u00a0\u202f])\d{3}(?:\1\d{3})*$")


def to_int(raw: Any) -> int:
    """A JSON/Python number or number text without fraction -> int, or FieldValueError.
    "12" and 12.0 are fine; "12.5", true and "abc" are not."""
    if isinstance(raw, bool):
        raise FieldValueError(_('%(value)s is not a whole number', value=shown(raw)))
    if isinstance(raw, int):
        value = raw
    elif isinstance(raw, str) and _DIGITS.match(raw.strip()):
        value = int(raw.strip())
    else:
        try:
            number = to_decimal(raw)
        except FieldValueError:
            raise FieldValueError(_('%(value)s is not a whole number', value=shown(raw))) from None
        if number != number.to_integral_value():
            raise FieldValueError(_('%(value)s is not a whole number (it has a fraction)', value=shown(raw)))
        if not MIN_INT <= number <= MAX_INT:
            raise FieldValueError(_('is too large: at most %(max_int)s in size', max_int=MAX_INT))
        value = int(number)
    if not MIN_INT <= value <= MAX_INT:
        raise FieldValueError(_('is too large: at most %(max_int)s in size', max_int=MAX_INT))
    return value


@register
class IntegerType(FieldType):
    """A whole number; sorts and compares numerically, sums in reports."""

    name = "integer"
    label = _l("Whole number")
    operators = ORDERED
    value_type = "number"
    indexed = True  # sorted and filtered like amounts (quantities, probabilities)
    options = limit_options(whole=True)

    def finish_options(self, options, ctx):
        return check_limit_options(options)

    def check_value(self, field, value: int | None) -> None:
        check_in_limits(field, value, 0)

    def sa_type(self, field) -> sa.types.TypeEngine:
        return sa.BigInteger()

    def marshmallow_field(self, field) -> ma.fields.Field:
        return ma.fields.Integer(allow_none=True)

    def parse(self, field, raw: Any) -> int | None:
        return None if self.is_empty(raw) else to_int(raw)

    def to_json(self, field, value: int | None) -> int | None:
        return value

    def from_db(self, field, values) -> int | None:
        return None if values[0] is None else int(values[0])

    def import_value(self, field, text: Any) -> int | None:
        """Spreadsheet text may group thousands ("1 234", "1.234.567", "1,234")."""
        if not isinstance(text, str):
            return self.parse(field, text)
        text = text.strip()
        if not text:
            return None
        if _GROUPED.match(text):
            return to_int(re.sub(r"[^\d+-]", "", text))
        if _DIGITS.match(text):
            return to_int(text)
        try:
            return to_int(parse_number_text(text))
        except FieldValueError:
            raise FieldValueError(_('%(value)s is not a whole number', value=shown(text))) from None

    def format(self, field, value: int | None, locale: str = "en") -> str:
        return "" if value is None else format_number(value, None, locale)

    def convert_from(self, field, source, value: Any) -> int | None:
        """Text as in an import, decimals and money amounts only without a fraction,
        yes/no as 1/0."""
        if value is None:
            return None
        if isinstance(value, str):
            return self.import_value(field, value)
        if isinstance(value, bool):
            return int(value)
        number = getattr(value, "amount", value)
        if isinstance(number, (int, float, Decimal)):
            return to_int(number)
        return super().convert_from(field, source, value)
