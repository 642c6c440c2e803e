"""Phone numbers, normalised to E.164 ("+4930123456") with the ``phonenumbers`` library, so
"030 123456", "+49 (30) 12 34 56" and "0049 30 123456" are one number: it deduplicates,
filters and dials the same. Numbers without a country code are read in the field's
region (option ``region``, else ``CARDBASE_PHONE_REGION``, else DE)."""
from __future__ import annotations

import os
import re
from typing import Any

import marshmallow as ma
import phonenumbers
import sqlalchemy as sa
from phonenumbers import PhoneNumberFormat

from .base import TEXTUAL, FieldType, FieldValueError
from .options import TEXT, OptionSpec, _l
from .decimal import shown
from .registry import register
from ..i18n import _

MAX_PHONE = 32
DEFAULT_REGION = "DE"
_EXT = ";ext="


def region_of(field) -> str:
    return (field.options.get("region") or os.environ.get("CARDBASE_PHONE_REGION") or DEFAULT_REGION).upper()


def check_region(region: Any) -> str:
    """The ``region`` option: a two-letter country code phonenumbers knows ('at' -> 'AT')."""
    if not isinstance(region, str) or region.strip().upper() not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError(f"{shown(region)} is not a supported region: use a two-letter country code such as DE, AT, US")
    return region.strip().upper()


def _parse_number(stored: str) -> phonenumbers.PhoneNumber | None:
    """A stored E.164 value (possibly with ";ext=") back to a PhoneNumber."""
    try:
        return phonenumbers.parse(stored, None)
    except phonenumbers.NumberParseException:
        return None


@register
class PhoneType(FieldType):
    """A phone number, stored in E.164, shown in international format."""

    name = "phone"
    label = _l("Phone")
    operators = TEXTUAL
    searchable = True

    options = (
        OptionSpec("region", TEXT, check=check_region, max_length=2, label=_l("Country of numbers written without +"),
                   help=_l("Two letters, e.g. DE; empty: the system default")),
    )

    def sa_type(self, field) -> sa.types.TypeEngine:
        return sa.String(MAX_PHONE)

    def marshmallow_field(self, field) -> ma.fields.Field:
        return ma.fields.String(allow_none=True, validate=ma.validate.Length(max=MAX_PHONE))

    def parse(self, field, raw: Any) -> str | None:
        if self.is_empty(raw):
            return None
        if isinstance(raw, int) and not isinstance(raw, bool):
            raw = str(raw)
        if not isinstance(raw, str):
            raise FieldValueError(_('must be a phone number, not %(value)s', value=shown(raw)))
        error = FieldValueError(_('%(value)s is not a valid phone number (expected e.g. +49 30 1234567)', value=shown(raw)))
        if len(raw) > 64:
            raise error
        try:
            number = phonenumbers.parse(raw.strip(), region_of(field))
        except phonenumbers.NumberParseException:
            raise error from None
        if not phonenumbers.is_valid_number(number):
            raise error
        value = phonenumbers.format_number(number, PhoneNumberFormat.E164)
        if number.extension:
            value += _EXT + number.extension
        if len(value) > MAX_PHONE:
            raise FieldValueError(_('%(value)s: the extension is too long', value=shown(raw)))
        return value

    def to_json(self, field, value: str | None) -> str | None:
        return value

    def format(self, field, value: str | None, locale: str = "en") -> str:
        if value is None:
            return ""
        number = _parse_number(value)
        return value if number is None else phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)

    def search_text(self, field, value: str | None) -> str | None:
        """The number as stored, as shown and as typed at home: E.164 and the national
        digits in one piece ("+4930123456", "030123456") and the international and national
        formats in their groups ("+49 30 123456", "030 123456"), so each of them -- every
        word a prefix -- finds it."""
        if value is None:
            return None
        number = _parse_number(value)
        if number is None:
            return value
        international = phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)
        national = phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
        return " ".join((value.split(_EXT)[0], re.sub(r"\D", "", national), international, national))

    def filter_value(self, field, op: str, value: Any) -> Any:
        """Text operators compare digits: "030 12" becomes "+493012" (the region's code)."""
        if op not in ("contains", "not_contains", "starts_with"):
            return super().filter_value(field, op, value)
        text = str(value or "").strip()
        digits = re.sub(r"\D", "", text)
        if not digits:
            raise FieldValueError(_("operator '%(op)s' needs some digits of a phone number", op=op))
        if text.startswith("+"):
            return "+" + digits
        if digits.startswith("00"):
            return "+" + digits[2:]
        if digits.startswith("0"):
            code = phonenumbers.country_code_for_region(region_of(field))
            return f"+{code}{digits[1:]}" if code else digits
        return digits
