"""Forged and stale page cursors (issue 19, point 11): every one is a clear
ValidationError({"cursor": ...}) on both engines, never a driver error.

The corpus takes a real cursor of the list (so its hash is right) and replaces the
values it carries: huge integers, NaN / sNaN / Infinity decimals, a text where a date is
expected, wrong types for every column type (date, datetime, decimal, money, integer,
boolean, choice, text, link, user), a wrong number of keys; plus cursors that are not
base64 or JSON at all and cursors of another object, sort, filter or search."""
from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from cardbase.schema_engine.errors import ValidationError

from test_query import Crm

HUGE = [2**63, -(2**63) - 1, 2**64, 10**30]
DECIMAL_SPECIALS = [{"$dec": v} for v in ("NaN", "sNaN", "-sNaN", "Infinity", "-Infinity", "1E+100000", "abc", "")]
BAD_TAGS = [{"$date": "2026-13-45"}, {"$dt": "yesterday"}, {"$time": "25:00"}, {"$x": "1"}, {"$dec": 5},
            {"$dec": "1", "$date": "2026-01-01"}, [1], {}]
TEXTS = ["text", "a\x00b", "\udcff"]
# per sort: values of the wrong type for its first key (in addition to the lists above)
WRONG: dict[str, list[Any]] = {
    "close_date": ["2026-01-01", 20260101, True, {"$dt": "2026-01-01T00:00:00"}, {"$dec": "1"}],
    "created_at": ["2026-01-01T00:00:00", {"$date": "2026-01-01"}, {"$dt": "2026-01-01T00:00:00+05:00"}, 5],
    "discount": ["12.5", 12.5, 12, True, {"$date": "2026-01-01"}],
    "amount": ["100.00", 100, {"$date": "2026-01-01"}, False, {"$dec": "1E-100000"}],
    "qty": ["3", 3.5, True, {"$dec": "3"}, {"$date": "2026-01-01"}],
    "active": ["yes", 1, 0, {"$dec": "1"}],
    "stage": ["won", 1.5, True, {"$dec": "1"}],
    "title": [5, True, 1.5, {"$dec": "1"}, {"$date": "2026-01-01"}],
    "client": [5, {"$date": "2026-01-01"}, False],
    "rep": [7, {"$dec": "7"}],
    "id": ["1", 1.5, True, None, {"$dec": "1"}],
}


@pytest.fixture
def crm(db) -> Crm:
    return Crm(db)


def payload(cursor: str) -> dict[str, Any]:
    return json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))


def forge(h: str, values: Any) -> str:
    raw = json.dumps({"h": h, "k": values}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def first_key_corpus(sort: str) -> list[Any]:
    values = WRONG[sort] + HUGE + DECIMAL_SPECIALS + BAD_TAGS + [1e400, -1e400]
    if sort not in ("title", "client", "rep"):
        values += TEXTS
    else:
        values += TEXTS[1:]
    return values


def test_forged_cursors_are_validation_errors_on_every_column_type(crm):
    tried = 0
    for sort in WRONG:
        real = crm.page(sort=sort, limit=1).next_cursor
        assert real, sort
        h, good = payload(real)["h"], payload(real)["k"]
        assert crm.page(sort=sort, limit=1, cursor=forge(h, good)).data  # the corpus starts from a valid one
        corpus = [[v, *good[1:]] for v in first_key_corpus(sort)]
        if sort != "id":  # the id (always last) of a sorted list too
            corpus += [[*good[:-1], v] for v in HUGE + WRONG["id"] + TEXTS]
        corpus += [[], good[:-1], [*good, 1], good + good, None, "x", {"a": 1}]  # wrong number of keys
        for values in corpus:
            with pytest.raises(ValidationError) as info:
                crm.page(sort=sort, limit=1, cursor=forge(h, values))
            assert set(info.value.errors) == {"cursor"}, (sort, values)
            assert "is not valid" in info.value.errors["cursor"][0], (sort, values)
            tried += 1
    assert tried > 300


def test_a_cursor_names_the_key_that_is_wrong(crm):
    real = crm.page(sort="close_date", limit=1).next_cursor
    with pytest.raises(ValidationError) as info:
        crm.page(sort="close_date", limit=1, cursor=forge(payload(real)["h"], ["2026-01-01", 1]))
    assert info.value.errors == {"cursor": ["is not valid: its value for 'close_date' is not a date; pass the "
                                            "next_cursor of the previous page unchanged"]}


def test_cursors_that_are_not_cursors(crm):
    for bad in ("!!!", "ü", "x", "e30", "eyJoIjoxfQ", "W10", "bnVsbA", "Tm9uZQ",
                base64.urlsafe_b64encode(b"[" * 100_000).decode()[:4000],
                base64.urlsafe_b64encode(b'{"h": "x", "k": [NaN]}').decode(),
                base64.urlsafe_b64encode(b'{"h": "x", "k": [1], "z": 2}').decode(),
                base64.urlsafe_b64encode(b'{"h": "x", "k": [' + b"9" * 5000 + b"]}").decode()[:4000],
                base64.urlsafe_b64encode(b"\xff\xfe").decode(), "A" * 5000):
        with pytest.raises(ValidationError) as info:
            crm.page(sort="-amount", limit=1, cursor=bad)
        assert list(info.value.errors) == ["cursor"], bad


def test_a_cursor_belongs_to_one_object_sort_filter_and_search(crm):
    flt = {"field": "stage", "op": "in", "value": ["won", "lead"]}
    real = crm.page(sort="-amount", limit=1, filter=flt).next_cursor
    assert crm.page(sort="-amount", limit=1, filter=flt, cursor=real).data
    others = [dict(sort="amount", filter=flt), dict(sort="-amount"), dict(sort="-amount,title", filter=flt),
              dict(sort="-amount", filter={"field": "stage", "op": "in", "value": ["won"]}),
              dict(sort="-amount", filter=flt, search="deal"), dict(sort="-amount", filter=flt, trash=True)]
    for kw in others:
        with pytest.raises(ValidationError) as info:
            crm.page(limit=1, cursor=real, **kw)
        assert "another object, sort, filter or search" in info.value.errors["cursor"][0], kw
    client_cursor = crm.page("client", sort="-name", limit=1).next_cursor
    with pytest.raises(ValidationError) as info:
        crm.page(sort="-title", limit=1, cursor=client_cursor)
    assert list(info.value.errors) == ["cursor"]


def test_legitimate_cursors_still_walk_every_type(crm):
    for sort in WRONG:
        for desc in ("", "-"):
            seen, cursor = [], None
            while True:
                page = crm.page(sort=desc + sort, limit=2, cursor=cursor, fields=["title"])
                seen += [r["id"] for r in page.data]
                cursor = page.next_cursor
                if cursor is None:
                    break
            assert sorted(seen) == sorted(crm.orders.values()), desc + sort
