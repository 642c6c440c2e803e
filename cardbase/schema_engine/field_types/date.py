"""Calendar dates without a time. Input is ISO (2026-11-22); spreadsheets may also use the
German 22.11.2026. Month/day orders like 11/22/2026 are refused: 01/02/2026 is ambiguous."""
from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

import marshmallow as ma
import sqlalchemy as sa

from .base import ORDERED, RELATIVE_DATES, FieldType, FieldValueError
from .decimal import shown
from .registry import register
from .options import _l
from ..i18n import _

_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_ISO_MIDNIGHT = re.compile(r"^(\d{4}-\d{2}-\d{2})[T ]00:00(:00(\.0+)?)?Z?$")
_GERMAN = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")


def _make(year: str, month: str, day: str, raw: Any) -> date:
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        raise FieldValueError(_('%(value)s is not a valid date', value=shown(raw))) from None


def parse_date(raw: Any) -> date:
    """A date, a datetime (its date) or ISO text "YYYY-MM-DD" -> date."""
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    if isinstance(raw, str):
        m = _ISO.match(raw.strip())
        if m:
            year, month, day = m.groups()
            return _make(year, month, day, raw)
        raise FieldValueError(_('%(value)s is not a date (expected YYYY-MM-DD, e.g. 2026-11-22)', value=shown(raw)))
    raise FieldValueError(_('must be a date like 2026-11-22, not %(value)s', value=shown(raw)))


@register
class DateType(FieldType):
    """A day (birthday, due date, contract start)."""

    name = "date"
    label = _l("Date")
    operators = ORDERED + RELATIVE_DATES
    value_type = "date"
    indexed = True
    dynamic_defaults = ("today",)

    def dynamic_default(self, field, word: str, user_id: int | None) -> date:
        """"today": the day in the installation's time zone when the record is created."""
        from .datetime_type import display_timezone
        return datetime.now(display_timezone()).date()

    def sa_type(self, field) -> sa.types.TypeEngine:
        return sa.Date()

    def marshmallow_field(self, field) -> ma.fields.Field:
        return ma.fields.Date(allow_none=True)

    def parse(self, field, raw: Any) -> date | None:
        return None if self.is_empty(raw) else parse_date(raw)

    def to_json(self, field, value: date | None) -> str | None:
        return None if value is None else value.isoformat()

    def from_db(self, field, values) -> date | None:
        value = values[0]
        if isinstance(value, str):  # a raw driver value
            return date.fromisoformat(value[:10])
        return value

    def import_value(self, field, text: Any) -> date | None:
        if not isinstance(text, str):
            return self.parse(field, text)
        text = text.strip()
        if not text:
            return None
        m = _GERMAN.match(text)
        if m:
            day, month, year = m.groups()
            return _make(year, month, day, text)
        m = _ISO_MIDNIGHT.match(text)
        if m:
            text = m.group(1)
        if _ISO.match(text):
            return parse_date(text)
        raise FieldValueError(_('%(value)s is not a date (expected 2026-11-22 or 22.11.2026)', value=shown(text)))

    def format(self, field, value: date | None, locale: str = "en") -> str:
        if value is None:
            return ""
        if (locale or "").lower().startswith("de"):
            return f"{value.day:02d}.{value.month:02d}.{value.year:04d}"
        return value.isoformat()

    def convert_from(self, field, source, value: Any) -> date | None:
        """A date-time keeps its (UTC) day; text converts as in an import."""
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, str):
            return self.import_value(field, value)
        return super().convert_from(field, source, value)
