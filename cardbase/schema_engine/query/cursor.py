"""Keyset pagination: the cursor carries the sort-key values of the last row of a page,
so the next page is "rows after this one" in the sort order -- an index range, fast at
any depth and stable while rows are added or removed (unlike OFFSET).

The cursor is opaque to clients: URL-safe base64 of JSON ``{"h": hash, "k": [values]}``.
The hash binds it to the object, the sort spec (paths, directions and the SQL types of the
keys) and the rows' scope (filter, search, trash) it was made for: a cursor of another
list, or of a field whose type changed since, is refused. Values are those of the SQL
sort expressions (for a link that is the target's display text, for a choice its
position), so they are encoded by their Python type -- Decimal, date, datetime and time
become tagged strings -- and come back as the very same values.

A cursor is client input like any other: every value is checked against its key's SQL
type and the databases' ranges before it is bound (a 64-bit integer, a finite decimal of
bounded size, a date for a date column, text without NUL or lone surrogates …), so a
forged or stale cursor is a ``ValidationError({"cursor": ...})`` on both engines, never a
driver error. (The hash is not a signature: it needs none, because a cursor only says
where a page starts -- a forged one can select nothing a filter could not.)
"""
from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
import math
from decimal import Decimal, InvalidOperation
from typing import Any, Callable, Sequence

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from ..errors import ValidationError
from .sort import SortKey

MAX_CURSOR = 4096
MIN_BIGINT, MAX_BIGINT = -(2**63), 2**63 - 1
MAX_DECIMAL_DIGITS = 1000  # digits and exponent of a decimal key (PostgreSQL's numeric allows far more)
_TAGS: dict[str, Callable[[str], Any]] = {"$dec": Decimal, "$date": dt.date.fromisoformat, "$dt": dt.datetime.fromisoformat,
         "$time": dt.time.fromisoformat}


def spec_hash(object_id: int, keys: Sequence[SortKey], scope: Any = None) -> str:
    """What a cursor is valid for: the object, each key's path, direction and SQL type,
    and ``scope`` (the filter, search and trash flag of the list)."""
    text = json.dumps([object_id, [[k.path, k.desc, type(k.expr.type).__name__] for k in keys], scope],
                      sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _encode_value(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if value == value and value not in (float("inf"), float("-inf")) else str(value)
    if isinstance(value, Decimal):
        return {"$dec": str(value)}
    if isinstance(value, dt.datetime):  # before date: a datetime is a date
        return {"$dt": value.isoformat()}
    if isinstance(value, dt.date):
        return {"$date": value.isoformat()}
    if isinstance(value, dt.time):
        return {"$time": value.isoformat()}
    return str(value)


def _decode_value(value: Any) -> Any:
    if isinstance(value, dict):
        if len(value) != 1:
            raise ValueError("bad tagged value")
        (tag, text), = value.items()
        if tag not in _TAGS or not isinstance(text, str):
            raise ValueError("bad tagged value")
        return _TAGS[tag](text)
    if isinstance(value, list):
        raise ValueError("lists are not sort values")
    return value


def encode(object_id: int, keys: Sequence[SortKey], values: Sequence[Any], scope: Any = None) -> str:
    """The cursor after a row whose sort-key values are ``values`` (id last)."""
    payload = {"h": spec_hash(object_id, keys, scope), "k": [_encode_value(v) for v in values]}
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


NOT_A_CURSOR = "is not valid: pass the next_cursor of the previous page unchanged"
OTHER_LIST = ("is not valid for this list: it was made for another object, sort, filter or search (or a field "
              "has changed type since); start again from the first page")


def decode(cursor: str, object_id: int, keys: Sequence[SortKey], scope: Any = None) -> list[Any]:
    """The row values a cursor carries, each checked against its key's type;
    ValidationError({"cursor": ...}) if it was not made by ``encode`` for this object,
    sort spec and scope."""
    try:
        if not isinstance(cursor, str) or not cursor or len(cursor) > MAX_CURSOR:
            raise ValueError("bad length")
        raw = base64.urlsafe_b64decode(cursor.encode("ascii") + b"=" * (-len(cursor) % 4))
        payload = json.loads(raw, parse_constant=_no_constant)
        if not isinstance(payload, dict) or set(payload) != {"h", "k"}:
            raise ValueError("not a cursor")
    except (ValueError, TypeError, binascii.Error, UnicodeError, RecursionError):
        raise ValidationError({"cursor": NOT_A_CURSOR}) from None
    if payload["h"] != spec_hash(object_id, keys, scope):
        raise ValidationError({"cursor": OTHER_LIST})
    values = payload["k"]
    if not isinstance(values, list) or len(values) != len(keys):
        raise ValidationError({"cursor": NOT_A_CURSOR})
    decoded = []
    for key, value in zip(keys, values):
        try:
            item = _decode_value(value)
        except (ValueError, TypeError, InvalidOperation, OverflowError):
            item = _BAD
        if item is _BAD or not _fits(key, item):
            raise ValidationError({"cursor": f"is not valid: its value for '{key.path}' is not a "
                                             f"{_type_name(key)}; pass the next_cursor of the previous page "
                                             "unchanged"})
        decoded.append(item)
    return decoded


_BAD = object()


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a value")


def _type_name(key: SortKey) -> str:
    t = key.expr.type
    for kind, name in ((sa.Boolean, "boolean"), (sa.Integer, "whole number"), (sa.Float, "number"),
                       (sa.Numeric, "decimal number"), (sa.DateTime, "date and time"), (sa.Date, "date"),
                       (sa.Time, "time"), (sa.String, "text")):
        if isinstance(t, kind):
            return name
    return "value"


def _fits(key: SortKey, value: Any) -> bool:
    """May ``value`` be bound against ``key``'s expression on every engine?"""
    if value is None:
        return key.nullable
    t = key.expr.type
    if isinstance(t, sa.Boolean):
        return isinstance(value, bool)
    if isinstance(t, sa.Integer):
        return _is_int(value)
    if isinstance(t, sa.Float):
        return _is_int(value) or (isinstance(value, float) and math.isfinite(value))
    if isinstance(t, sa.Numeric):
        return isinstance(value, Decimal) and _decimal_ok(value)
    if isinstance(t, sa.DateTime):
        return isinstance(value, dt.datetime) and (value.tzinfo is None or bool(t.timezone))
    if isinstance(t, sa.Date):
        return isinstance(value, dt.date) and not isinstance(value, dt.datetime)
    if isinstance(t, sa.Time):
        return isinstance(value, dt.time) and value.tzinfo is None
    if isinstance(t, sa.String):
        return isinstance(value, str) and _text_ok(value)
    # an expression of no declared type: any scalar the databases can bind
    if isinstance(value, bool) or isinstance(value, (dt.date, dt.time)):
        return True
    if isinstance(value, int):
        return _is_int(value)
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, Decimal):
        return _decimal_ok(value)
    return isinstance(value, str) and _text_ok(value)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and MIN_BIGINT <= value <= MAX_BIGINT


def _decimal_ok(value: Decimal) -> bool:
    return (value.is_finite() and len(value.as_tuple().digits) <= MAX_DECIMAL_DIGITS
            and abs(value.adjusted()) <= MAX_DECIMAL_DIGITS)


def _text_ok(value: str) -> bool:
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate
        return False
    return True


def after(keys: Sequence[SortKey], values: Sequence[Any]) -> ColumnElement:
    """WHERE clause for rows strictly after ``values`` in the order of ``keys``
    (ascending NULLS FIRST, descending NULLS LAST): the OR over i of
    "keys before i equal, key i strictly after"."""
    terms = []
    equal: list[ColumnElement] = []
    for key, value in zip(keys, values):
        beyond = _beyond(key, value)
        if beyond is not None:
            terms.append(sa.and_(*equal, beyond))
        equal.append(key.expr.is_(None) if value is None else key.expr == _bind(key, value))
    return sa.or_(*terms) if terms else sa.false()


def _bind(key: SortKey, value: Any) -> ColumnElement:
    """The value as a parameter of the key's type (a plain ``expr == True`` would be taken
    for an IS comparison, which SQLAlchemy refuses for a boolean key)."""
    declared = key.expr.type
    return sa.bindparam(None, value, type_=None if isinstance(declared, sa.types.NullType) else declared)


def _beyond(key: SortKey, value: Any) -> ColumnElement | None:
    """Rows whose key is strictly after ``value``; None if nothing can be."""
    expr = key.expr
    if value is not None:
        value = _bind(key, value)
    if not key.nullable:
        return expr < value if key.desc else expr > value
    if not key.desc:  # ascending, NULLs first
        return expr.is_not(None) if value is None else expr > value
    return None if value is None else sa.or_(expr < value, expr.is_(None))  # descending, NULLs last
