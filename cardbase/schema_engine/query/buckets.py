"""Date buckets for grouping (day, week, month, quarter, year) as SQL on both engines,
each giving the same ISO text: "2026-11-22", "2026-W47", "2026-11", "2026-Q4", "2026".

Text keys sort chronologically and read the same in a report, a chart axis and a JSON
answer. Times are grouped in UTC, the zone they are stored in. The format strings are
rendered as SQL literals (they are ours, not user input), so PostgreSQL sees the SELECT
and GROUP BY expressions as identical.
"""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from ..errors import ValidationError

BUCKETS = ("day", "week", "month", "quarter", "year")
_PG_FORMATS = {"day": "YYYY-MM-DD", "week": 'IYYY-"W"IW', "month": "YYYY-MM",
               "quarter": 'YYYY-"Q"Q', "year": "YYYY"}
_SQLITE_FORMATS = {"day": "%Y-%m-%d", "month": "%Y-%m", "year": "%Y"}


def _lit(text: str) -> ColumnElement:
    return sa.literal_column("'" + text.replace("'", "''") + "'", type_=sa.String)


def _cat(*parts: ColumnElement) -> ColumnElement:
    out = parts[0]
    for part in parts[1:]:
        out = out.op("||", return_type=sa.String)(part)
    return out


def bucket_expression(dialect: str, col: ColumnElement, bucket: str) -> ColumnElement:
    """The ISO text of the ``bucket`` holding ``col`` (a date or datetime column)."""
    return bucket_key(dialect, col, bucket)[0]


def bucket_key(dialect: str, col: ColumnElement, bucket: str) -> tuple[ColumnElement, ColumnElement]:
    """The bucket's ISO text and the expression to group and sort by. PostgreSQL groups by
    the cheap ``date_trunc`` and formats once per group (``to_char`` on every row costs a
    fifth of a large report's time); SQLite's text key is already cheap, so both are it."""
    if bucket not in BUCKETS:
        raise ValidationError({"group_by": f"unknown bucket '{bucket}'; use one of {', '.join(BUCKETS)}"})
    if dialect == "postgresql":
        start = sa.func.date_trunc(_lit(bucket), col, type_=col.type)
        return sa.func.to_char(start, _lit(_PG_FORMATS[bucket]), type_=sa.String), start
    text = _sqlite_bucket(col, bucket)
    return text, text


def _sqlite_bucket(col: ColumnElement, bucket: str) -> ColumnElement:
    if bucket != "week" and isinstance(col.type, (sa.Date, sa.DateTime)):
        return _sqlite_iso_prefix(col, bucket)
    return sqlite_parsed(col, bucket)


def _sqlite_iso_prefix(col: ColumnElement, bucket: str) -> ColumnElement:
    """SQLite keeps dates and datetimes as ISO text ("2026-11-22", "2026-11-22 09:30:00"),
    so day, month and year are prefixes of it: ``substr`` costs a fraction of parsing the
    text with ``strftime`` on every row of a large report (same keys: see the tests)."""
    def part(start: int, length: int) -> ColumnElement:
        return sa.func.substr(col, start, length, type_=sa.String)
    if bucket == "quarter":
        month = sa.cast(part(6, 2), sa.Integer)
        return _cat(part(1, 4), _lit("-Q"), sa.cast((month + 2) // 3, sa.String))
    return part(1, {"day": 10, "month": 7, "year": 4}[bucket])


def sqlite_parsed(col: ColumnElement, bucket: str) -> ColumnElement:
    """The bucket by parsing the value with ``strftime`` (any date text SQLite reads)."""
    strftime = lambda fmt, value: sa.func.strftime(_lit(fmt), value, type_=sa.String)  # noqa: E731
    if bucket in _SQLITE_FORMATS:
        return strftime(_SQLITE_FORMATS[bucket], col)
    if bucket == "quarter":
        month = sa.cast(strftime("%m", col), sa.Integer)
        return _cat(strftime("%Y", col), _lit("-Q"), sa.cast((month + 2) // 3, sa.String))
    # ISO week: the week (Monday..Sunday) belongs to the year of its Thursday, and its
    # number is that Thursday's day of the year divided by 7 (SQLite < 3.46 lacks %V/%G).
    thursday = sa.func.date(col, _lit("-3 days"), _lit("weekday 4"))
    number = (sa.cast(strftime("%j", thursday), sa.Integer) - 1) // 7 + 1
    return _cat(strftime("%Y", thursday), _lit("-W"), sa.func.printf(_lit("%02d"), number, type_=sa.String))
