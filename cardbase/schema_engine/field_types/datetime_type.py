"""Points in time, stored as naive UTC in a plain DateTime column: the same on SQLite
(which has no time zones) and PostgreSQL, and sortable across users in any zone.
(Named datetime_type so it does not shadow the standard library's datetime.)

Input with an offset is converted to UTC; input without one is taken as UTC (API) or as
the display time zone (spreadsheet import). Display uses ``CARDBASE_TIMEZONE`` (an IANA
name such as "Europe/Berlin"; default UTC).
"""
from __future__ import annotations

import os
import re
from datetime import date, datetime, time, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import marshmallow as ma
import sqlalchemy as sa

from .base import ORDERED, RELATIVE_DATES, FieldType, FieldValueError
from .decimal import shown
from .registry import register
from .options import _l
from ..i18n import _

_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?)?(Z|[+-]\d{2}:?\d{2})?$")
_GERMAN = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})(?:,?\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?$")


def display_timezone() -> tzinfo:
    """The zone times are shown (and naive spreadsheet times read) in."""
    name = os.environ.get("CARDBASE_TIMEZONE", "").strip()
    if not name or name.upper() == "UTC":
        return timezone.utc
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return timezone.utc


def to_utc_naive(value: datetime, assume: tzinfo = timezone.utc) -> datetime:
    """Aware -> UTC; naive values are taken to be in ``assume``. Result is naive UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=assume)
    return value.astimezone(timezone.utc).replace(tzinfo=None)


def parse_datetime(raw: Any, assume: tzinfo = timezone.utc) -> datetime:
    """datetime, date (midnight) or ISO 8601 text -> naive UTC datetime."""
    try:
        if isinstance(raw, datetime):
            return to_utc_naive(raw, assume)
        if isinstance(raw, date):
            return to_utc_naive(datetime.combine(raw, time()), assume)
        if isinstance(raw, str):
            if not _ISO.match(raw.strip()):
                raise FieldValueError(
                    _('%(value)s is not a date and time (expected ISO 8601, e.g. 2026-11-22T14:30:00Z)', value=shown(raw)))
            return to_utc_naive(datetime.fromisoformat(raw.strip()), assume)
    except (ValueError, OverflowError) as exc:
        if isinstance(exc, FieldValueError):
            raise
        raise FieldValueError(_('%(value)s is not a valid date and time', value=shown(raw))) from None
    raise FieldValueError(_('must be a date and time like 2026-11-22T14:30:00Z, not %(value)s', value=shown(raw)))


def iso_utc(value: datetime) -> str:
    """Naive UTC -> "2026-11-22T14:30:00Z"."""
    return value.isoformat(timespec="microseconds" if value.microsecond else "seconds") + "Z"


@register
class DateTimeType(FieldType):
    """A date and time (appointment, last contact)."""

    name = "datetime"
    label = _l("Date and time")
    operators = ORDERED + RELATIVE_DATES
    value_type = "datetime"
    indexed = True
    dynamic_defaults = ("now",)

    def dynamic_default(self, field, word: str, user_id: int | None) -> datetime:
        """"now": the moment the record is created (naive UTC, as stored)."""
        return to_utc_naive(datetime.now(timezone.utc))

    def sa_type(self, field) -> sa.types.TypeEngine:
        return sa.DateTime(timezone=False)

    def marshmallow_field(self, field) -> ma.fields.Field:
        return ma.fields.DateTime(allow_none=True)

    def parse(self, field, raw: Any) -> datetime | None:
        return None if self.is_empty(raw) else parse_datetime(raw)

    def to_json(self, field, value: datetime | None) -> str | None:
        return None if value is None else iso_utc(value)

    def from_db(self, field, values) -> datetime | None:
        value = values[0]
        if isinstance(value, str):  # a raw driver value
            value = datetime.fromisoformat(value)
        return None if value is None else to_utc_naive(value)

    def import_value(self, field, text: Any) -> datetime | None:
        """ISO or "22.11.2026 14:30"; times without an offset are in the display zone."""
        tz = display_timezone()
        if not isinstance(text, str):
            return None if self.is_empty(text) else parse_datetime(text, tz)
        text = text.strip()
        if not text:
            return None
        m = _GERMAN.match(text)
        if m:
            day, month, year, hour, minute, second = (int(g or 0) for g in m.groups())
            try:
                return to_utc_naive(datetime(year, month, day, hour, minute, second), tz)
            except (ValueError, OverflowError):
                raise FieldValueError(_('%(value)s is not a valid date and time', value=shown(text))) from None
        return parse_datetime(text, tz)

    def format(self, field, value: datetime | None, locale: str = "en") -> str:
        if value is None:
            return ""
        local = value.replace(tzinfo=timezone.utc).astimezone(display_timezone())
        if (locale or "").lower().startswith("de"):
            return f"{local.day:02d}.{local.month:02d}.{local.year:04d} {local.hour:02d}:{local.minute:02d}"
        return f"{local.year:04d}-{local.month:02d}-{local.day:02d} {local.hour:02d}:{local.minute:02d}"

    def convert_from(self, field, source, value: Any) -> datetime | None:
        """A date becomes its midnight (UTC); text converts as in an import."""
        if isinstance(value, str):
            return self.import_value(field, value)
        if isinstance(value, date):
            return parse_datetime(value)
        return super().convert_from(field, source, value)
