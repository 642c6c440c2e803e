"""Keyset pagination: the cursor carries the sort-key values of the last row of a page,
so the next page is "rows after this one" in the sort order -- an index range, fast at
any depth and stable while rows are added or removed (unlike OFFSET).

The cursor is opaque to clients: URL-safe base64 of JSON ``{"h": hash, "k": [values]}``.
The hash binds it to the object and the sort spec it was made for. Values are those of
the SQL sort expressions (for a link that is the target's display text, for a choice its
position), so they are encoded by their Python type -- Decimal, date, datetime and time
become tagged strings -- and come back as the very same values, which the expression's
SQL type then binds exactly as the database compares them.
"""
from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
from decimal import Decimal, InvalidOperation
from typing import Any, Callable, Sequence

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from ..errors import ValidationError
from .sort import SortKey

MAX_CURSOR = 4096
_TAGS: dict[str, Callable[[str], Any]] = {"$dec": Decimal, "$date": dt.date.fromisoformat, "$dt": dt.datetime.fromisoformat,
         "$time": dt.time.fromisoformat}


def spec_hash(object_id: int, keys: Sequence[SortKey]) -> str:
    text = json.dumps([object_id, [[k.path, k.desc] for k in keys]])
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


def encode(object_id: int, keys: Sequence[SortKey], values: Sequence[Any]) -> str:
    """The cursor after a row whose sort-key values are ``values`` (id last)."""
    payload = {"h": spec_hash(object_id, keys), "k": [_encode_value(v) for v in values]}
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str, object_id: int, keys: Sequence[SortKey]) -> list[Any]:
    """The row values a cursor carries; ValidationError({"cursor": ...}) if it was not made
    by ``encode`` for this object and sort spec."""
    try:
        if not isinstance(cursor, str) or not cursor or len(cursor) > MAX_CURSOR:
            raise ValueError("bad length")
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        payload = json.loads(raw)
        if not isinstance(payload, dict) or payload.get("h") != spec_hash(object_id, keys):
            raise ValueError("not for this sort")
        values = payload.get("k")
        if not isinstance(values, list) or len(values) != len(keys):
            raise ValueError("wrong number of keys")
        decoded = [_decode_value(v) for v in values]
        if not isinstance(decoded[-1], int) or isinstance(decoded[-1], bool):
            raise ValueError("last key must be the id")
        return decoded
    except (ValueError, TypeError, binascii.Error, InvalidOperation, UnicodeDecodeError, RecursionError):
        raise ValidationError({"cursor": "is not valid"}) from None


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
        equal.append(key.expr.is_(None) if value is None else key.expr == value)
    return sa.or_(*terms) if terms else sa.false()


def _beyond(key: SortKey, value: Any) -> ColumnElement | None:
    """Rows whose key is strictly after ``value``; None if nothing can be."""
    expr = key.expr
    if not key.nullable:
        return expr < value if key.desc else expr > value
    if not key.desc:  # ascending, NULLs first
        return expr.is_not(None) if value is None else expr > value
    return None if value is None else sa.or_(expr < value, expr.is_(None))  # descending, NULLs last
