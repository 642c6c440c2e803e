"""Date buckets as the reader says them: "Q2 2026", "Mai 2026", "KW 18 2026".

The report keeps the ISO text of a bucket ("2026-Q2", "2026-05", "2026-W18") as its key:
it sorts chronologically and drill-down reads its date range from it. Only the label shown
in the pivot, on chart axes and in exports is made here, in the reader's locale (month
names from Babel's CLDR data) and language (the week's abbreviation through gettext).
"""
from __future__ import annotations

import datetime as dt

from babel.dates import format_date, format_skeleton

from cardbase.schema_engine.i18n import _


def _day(text: str, locale: str) -> str:
    return format_date(dt.date.fromisoformat(text), "medium", locale=locale)


def _week(text: str, locale: str) -> str:
    year, week = text.split("-W")
    return _("W%(week)s %(year)s", week=int(week), year=year)


def _month(text: str, locale: str) -> str:
    year, month = (int(p) for p in text.split("-"))
    return format_skeleton("yMMMM", dt.date(year, month, 1), locale=locale)


def _quarter(text: str, locale: str) -> str:
    year, quarter = text.split("-Q")
    return _("Q%(quarter)s %(year)s", quarter=int(quarter), year=year)


def _year(text: str, locale: str) -> str:
    return text


LABELLERS = {"day": _day, "week": _week, "month": _month, "quarter": _quarter, "year": _year}


def bucket_label(bucket: str, text: str, locale: str = "en") -> str:
    """The label of the bucket ``text`` (its ISO key); a key that is not one is shown as it is."""
    labeller = LABELLERS.get(bucket)
    if labeller is None:
        return text
    try:
        return labeller(str(text), locale)
    except ValueError:
        return str(text)
