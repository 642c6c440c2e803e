"""Dates and date-times in the user's locale.

English: the browser's own pickers (ISO values). Every other language writes dates its own
way, and a browser shows its picker in the *browser's* locale, whatever the page's
language -- a German screen in an American browser would ask for mm/dd/yyyy. So for German
the control is a text input in the German form ("24.12.2026", "24.12.2026 14:30") with
that placeholder, and the form accepts it as well as ISO. Date-times are entered and shown
in the display time zone."""
from __future__ import annotations

import re
from datetime import date, datetime, timezone

from markupsafe import Markup

from cardbase.schema_engine.field_types.datetime_type import display_timezone, parse_datetime
from cardbase.schema_engine.field_types.decimal import shown
from cardbase.schema_engine.i18n import _

from . import Control, FieldValueError, Widget, register

# language -> (date format, date-time format, placeholder of a date, of a date-time)
LOCAL_FORMS = {"de": ("%d.%m.%Y", "%d.%m.%Y %H:%M", "TT.MM.JJJJ", "TT.MM.JJJJ hh:mm")}
_GERMAN_DATE = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})")
_GERMAN_DATETIME = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4}),?\s+(\d{1,2}):(\d{2})")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ISO_LOCAL = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")


def local_form(language: str) -> tuple[str, str, str, str] | None:
    return LOCAL_FORMS.get((language or "en")[:2])


def _german_date(text: str) -> date | None:
    m = _GERMAN_DATE.fullmatch(text)
    if m is None:
        return None
    day, month, year = (int(g) for g in m.groups())
    try:
        return date(year, month, day)
    except ValueError:
        return None


@register("date")
class DateWidget(Widget):
    def to_raw(self, field, value, language):
        if value is None:
            return ""
        form = local_form(language)
        return value.strftime(form[0]) if form else value.isoformat()

    def parse(self, field, raw, language):
        text = (raw or "").strip() if isinstance(raw, str) else raw
        if isinstance(text, str) and _GERMAN_DATE.fullmatch(text):
            found = _german_date(text)
            if found is None:
                raise FieldValueError(_("%(value)s is not a valid date", value=shown(text)))
            text = found.isoformat()
        return super().parse(field, text, language)

    def control(self, c: Control) -> Markup:
        form = local_form(c.language)
        if form is None:
            return Markup('<input type="date" {} value="{}">').format(c.attrs(), c.raw or "")
        raw = c.raw or ""
        if _ISO_DATE.fullmatch(raw):  # a value given in ISO (a link's ?date=2026-11-17)
            raw = date.fromisoformat(raw).strftime(form[0])
        return Markup('<input type="text" inputmode="numeric" autocomplete="off" data-date-format="{}" '
                      'placeholder="{}" title="{}" {} value="{}">').format(
            form[0], form[2], form[2], c.attrs(), raw)


@register("datetime")
class DateTimeWidget(Widget):
    def to_raw(self, field, value, language):
        if value is None:
            return ""
        local = value.replace(tzinfo=timezone.utc).astimezone(display_timezone())
        form = local_form(language)
        return local.strftime(form[1] if form else "%Y-%m-%dT%H:%M")

    def parse(self, field, raw, language):
        text = (raw or "").strip()
        if not text:
            return None
        m = _GERMAN_DATETIME.fullmatch(text)
        if m is not None:
            day, month, year, hour, minute = (int(g) for g in m.groups())
            try:
                text = datetime(year, month, day, hour, minute).strftime("%Y-%m-%dT%H:%M")
            except ValueError:
                raise FieldValueError(_("%(value)s is not a valid date and time", value=shown(text))) from None
        else:
            day_only = _german_date(text)
            if day_only is not None:
                text = day_only.isoformat() + "T00:00"
        return field.ftype.parse(field, parse_datetime(text, display_timezone()).isoformat() + "Z")

    def control(self, c: Control) -> Markup:
        form = local_form(c.language)
        if form is None:
            return Markup('<input type="datetime-local" {} value="{}">').format(c.attrs(), c.raw or "")
        raw = c.raw or ""
        if _ISO_LOCAL.fullmatch(raw):
            raw = datetime.fromisoformat(raw.replace(" ", "T")).strftime(form[1])
        return Markup('<input type="text" autocomplete="off" data-date-format="{}" placeholder="{}" title="{}" {} '
                      'value="{}">').format(form[1], form[3], form[3], c.attrs(), raw)


def local_input(kind: str, name: str, element_id: str, value: str | None, language: str,
                css: str = "form-control") -> Markup:
    """A date ("date") or date-time ("datetime") input outside a card -- a task's due time,
    a report's date range -- written the user's way, like the card's own controls: the
    browser's picker in English, "24.12.2026 14:30" as text in German (a German screen in
    an American browser would otherwise ask for mm/dd/yyyy). ``value`` is ISO."""
    form = local_form(language)
    raw = (value or "").strip()
    attrs = Markup('id="{}" name="{}" class="{}"').format(element_id, name, css)
    if form is None:
        native = "date" if kind == "date" else "datetime-local"
        return Markup('<input type="{}" {} value="{}">').format(native, attrs, raw)
    fmt, placeholder = (form[0], form[2]) if kind == "date" else (form[1], form[3])
    if kind == "date" and _ISO_DATE.fullmatch(raw):
        raw = date.fromisoformat(raw).strftime(fmt)
    elif kind != "date" and _ISO_LOCAL.fullmatch(raw):
        raw = datetime.fromisoformat(raw.replace(" ", "T")).strftime(fmt)
    return Markup('<input type="text" autocomplete="off" data-date-format="{}" placeholder="{}" title="{}" {} '
                  'value="{}">').format(fmt, placeholder, placeholder, attrs, raw)


def iso_from_local(kind: str, text: str | None) -> str | None:
    """The ISO form ("2026-12-24", "2026-12-24T14:30") of a date or date-time typed the
    German way; any other text is returned as given, for its receiver to check and name."""
    raw = (text or "").strip()
    if not raw:
        return None
    if kind != "date":
        m = _GERMAN_DATETIME.fullmatch(raw)
        if m is not None:
            day, month, year, hour, minute = (int(g) for g in m.groups())
            try:
                return datetime(year, month, day, hour, minute).strftime("%Y-%m-%dT%H:%M")
            except ValueError:
                return raw
    day_only = _german_date(raw)
    if day_only is None:
        return raw
    return day_only.isoformat() if kind == "date" else day_only.isoformat() + "T00:00"
