"""Dates and date-times: the browser's own pickers (ISO values, shown in the user's
locale). Date-times are entered and shown in the display time zone."""
from __future__ import annotations

from datetime import timezone

from markupsafe import Markup

from cardbase.schema_engine.field_types.datetime_type import display_timezone, parse_datetime

from . import Control, Widget, register


@register("date")
class DateWidget(Widget):
    def to_raw(self, field, value, language):
        return "" if value is None else value.isoformat()

    def control(self, c: Control) -> Markup:
        return Markup('<input type="date" {} value="{}">').format(c.attrs(), c.raw or "")


@register("datetime")
class DateTimeWidget(Widget):
    def to_raw(self, field, value, language):
        if value is None:
            return ""
        local = value.replace(tzinfo=timezone.utc).astimezone(display_timezone())
        return local.strftime("%Y-%m-%dT%H:%M")

    def parse(self, field, raw, language):
        text = (raw or "").strip()
        if not text:
            return None
        return field.ftype.parse(field, parse_datetime(text, display_timezone()).isoformat() + "Z")

    def control(self, c: Control) -> Markup:
        return Markup('<input type="datetime-local" {} value="{}">').format(c.attrs(), c.raw or "")

