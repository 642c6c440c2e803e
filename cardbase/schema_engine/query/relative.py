"""Conditions relative to the reader and to today, in the one filter language.

``{"field": "due", "op": "overdue"}``, ``{"field": "due", "op": "next_days", "value": 7}``
or ``{"field": "assignee", "op": "eq", "value": "me"}`` mean something different for each
reader and each day, so a saved view ("My open tasks", "Closing this week") keeps working
tomorrow and for a colleague. Each is rewritten, just before it is compiled, into the plain
condition it means now: a date range (``between``/``lt``) or the reader's user id. The
field types only declare the operators (``RELATIVE_DATES``); they never see them.

Days are the days of the display time zone (``CARDBASE_TIMEZONE``): "today" for a
date-and-time field runs from local midnight to the next, compared in UTC as stored. Weeks
start on Monday (ISO 8601). The reader is the user of the engine session (``use_viewer``,
set by ``RecordStore.session``); without one (a condition checked when it is saved) "me"
matches nobody.
"""
from __future__ import annotations

from contextvars import ContextVar, Token
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from ..field_types.base import FieldValueError
from ..field_types.datetime_type import display_timezone
from ..field_types.user import UserType
from ..i18n import _
from ..snapshot import FieldInfo

ME = "me"
NO_VALUE = ("today", "this_week", "this_month", "overdue")  # operators without an operand
DAYS = ("next_days", "last_days")  # operators whose operand is a number of days
MAX_DAYS = 3660

_viewer: ContextVar[int | None] = ContextVar("cardbase_filter_viewer", default=None)


def utc_now() -> datetime:
    """The present moment (aware, UTC); tests replace it to fix the day."""
    return datetime.now(timezone.utc)


def use_viewer(user_id: int | None) -> Token:
    """"me" from now on means ``user_id``; pass the token to ``reset_viewer`` when done."""
    return _viewer.set(user_id)


def reset_viewer(token: Token) -> None:
    try:
        _viewer.reset(token)
    except ValueError:  # set in another context (a server thread reused): forget it
        _viewer.set(None)


def viewer() -> int | None:
    return _viewer.get()


def local_today() -> date:
    return utc_now().astimezone(display_timezone()).date()


def _days(value: Any, op: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise FieldValueError(_("operator '%(op)s' needs a number of days, e.g. 7", op=op))
    try:
        days = int(str(value).strip())
    except ValueError:
        raise FieldValueError(_("operator '%(op)s' needs a number of days, e.g. 7", op=op)) from None
    if not 0 <= days <= MAX_DAYS:
        raise FieldValueError(_("operator '%(op)s' needs a number of days from 0 to %(max)s", op=op, max=MAX_DAYS))
    return days


def day_range(op: str, value: Any, today: date) -> tuple[date | None, date | None]:
    """The first and last day (inclusive; None: open) a relative date operator means."""
    if op == "today":
        return today, today
    if op == "this_week":
        monday = today - timedelta(days=today.weekday())
        return monday, monday + timedelta(days=6)
    if op == "this_month":
        first = today.replace(day=1)
        following = (first + timedelta(days=32)).replace(day=1)
        return first, following - timedelta(days=1)
    if op == "overdue":
        return None, today - timedelta(days=1)
    if op == "next_days":
        return today, today + timedelta(days=_days(value, op))
    if op == "last_days":
        return today - timedelta(days=_days(value, op)), today
    raise FieldValueError(_("unknown operator '%(op)s'", op=op))  # pragma: no cover - declared ops only


def _moment(day: date) -> datetime:
    """Local midnight at the start of ``day`` as naive UTC (how date-times are stored)."""
    local = datetime.combine(day, time(), tzinfo=display_timezone())
    return local.astimezone(timezone.utc).replace(tzinfo=None)


def _date_condition(field: FieldInfo, op: str, value: Any) -> tuple[str, Any]:
    today = local_today()
    first, last = day_range(op, value, today)
    if field.ftype.value_type == "date":
        if first is None:
            return "lt", today
        return "between", [first, last]
    # a date and time: overdue is "before now"; a day range runs to the last microsecond of its last day
    if op == "overdue":
        return "lt", utc_now().replace(tzinfo=None)
    assert first is not None and last is not None
    return "between", [_moment(first), _moment(last + timedelta(days=1)) - timedelta(microseconds=1)]


def _is_me(value: Any) -> bool:
    return isinstance(value, str) and value.strip().lower() == ME


def _me_condition(op: str, value: Any) -> tuple[str, Any]:
    """"me" as the reader's user id; with no reader, "me" is nobody (``in []``)."""
    found = viewer()
    if isinstance(value, list):
        others = [v for v in value if not _is_me(v)]
        if len(others) == len(value):
            return op, value
        return op, others + ([found] if found is not None else [])
    if not _is_me(value):
        return op, value
    if found is not None:
        return op, found
    if op in ("eq", "ne"):
        return ("in" if op == "eq" else "not_in"), []
    return op, value


def is_relative(op: str) -> bool:
    return op in NO_VALUE or op in DAYS


def resolve(field: FieldInfo, op: str, value: Any) -> tuple[str, Any]:
    """The plain (operator, value) a relative condition means for this reader today;
    any other condition unchanged. FieldValueError for a bad number of days."""
    if is_relative(op):
        if field.ftype.value_type not in ("date", "datetime"):
            raise FieldValueError(_("operator '%(op)s' needs a date field", op=op))
        return _date_condition(field, op, value)
    if isinstance(field.ftype, UserType):
        return _me_condition(op, value)
    return op, value
