"""Issue 14, point 9: relative dates (today, this week, this month, overdue, next/last N
days) and "me" in the one filter language -- lists, counts, field rules and saved views,
on both engines. The day is the display time zone's; the clock is fixed per test."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.errors import ValidationError
from cardbase.schema_engine.layouts import tables
from cardbase.schema_engine.query import relative
from cardbase.schema_engine.query.match import compile_match
from cardbase.schema_engine.query.model import ListQuery

from crm_fixture import crm
from rights_fixture import actor, add_user

NOW = datetime(2026, 12, 3, 23, 30, tzinfo=timezone.utc)  # a Thursday; already Friday 4th in Berlin
DUES = {"yesterday": "2026-12-02", "today": "2026-12-03", "sunday": "2026-12-06", "monday": "2026-12-07",
        "in_8": "2026-12-11", "last_month": "2026-11-27", "next_year": "2027-01-02", "none": None}


@pytest.fixture
def tasks(db, monkeypatch):
    monkeypatch.setattr(relative, "utc_now", lambda: NOW)
    monkeypatch.delenv("CARDBASE_TIMEZONE", raising=False)
    svc, store = crm(db)
    svc.create_object(SYSTEM, {"name": "task", "label": "Task", "label_plural": "Tasks", "fields": [
        {"name": "title", "label": "Title", "type": "string", "required": True},
        {"name": "due", "label": "Due", "type": "date"},
        {"name": "call_at", "label": "Call at", "type": "datetime"},
        {"name": "assignee", "label": "Assignee", "type": "user"},
        {"name": "done", "label": "Done", "type": "boolean"},
    ]})
    ann, bob = add_user(db, "ann", admin=True), add_user(db, "bob", admin=True)
    rows = [{"title": name, "due": due, "assignee": ann if i % 2 == 0 else bob, "done": name == "today"}
            for i, (name, due) in enumerate(DUES.items())]
    rows += [{"title": "call-late", "call_at": "2026-12-03T23:15:00Z"},  # Friday 00:15 in Berlin
             {"title": "call-early", "call_at": "2026-12-03T22:45:00Z"},  # Thursday 23:45 in Berlin
             {"title": "call-past", "call_at": "2026-12-03T23:00:00Z"}]
    store.bulk_create(SYSTEM, "task", rows)
    return store, actor(db, ann), actor(db, bob)


def titles(store, who, tree) -> list[str]:
    return sorted(r["title"] for r in store.list(who, "task", ListQuery(filter=tree, limit=100)).data)


@pytest.mark.parametrize("op, value, expected", [
    ("today", None, ["today"]),
    ("this_week", None, ["sunday", "today", "yesterday"]),  # Monday 30 Nov .. Sunday 6 Dec
    ("this_month", None, ["in_8", "monday", "sunday", "today", "yesterday"]),
    ("overdue", None, ["last_month", "yesterday"]),
    ("next_days", 4, ["monday", "sunday", "today"]),
    ("next_days", "8", ["in_8", "monday", "sunday", "today"]),
    ("last_days", 3, ["today", "yesterday"]),  # 30 Nov .. 3 Dec
])
def test_relative_date_operators(tasks, op, value, expected):
    store, ann, _bob = tasks
    tree = {"field": "due", "op": op} if value is None else {"field": "due", "op": op, "value": value}
    assert titles(store, ann, tree) == expected
    count, _estimated = store.count(ann, "task", tree)
    assert count == len(expected)


def test_a_day_is_the_display_time_zones(tasks, monkeypatch):
    store, ann, _bob = tasks
    tree = {"field": "call_at", "op": "today"}
    assert titles(store, ann, tree) == ["call-early", "call-late", "call-past"]  # UTC: all on the 3rd
    monkeypatch.setenv("CARDBASE_TIMEZONE", "Europe/Berlin")
    assert titles(store, ann, tree) == ["call-late", "call-past"]  # Berlin: it is Friday the 4th
    assert titles(store, ann, {"field": "call_at", "op": "overdue"}) == ["call-early", "call-late", "call-past"]
    assert titles(store, ann, {"field": "due", "op": "today"}) == []  # nothing is due on the 4th
    assert titles(store, ann, {"field": "due", "op": "overdue"}) == ["last_month", "today", "yesterday"]


def test_me_is_the_reader(tasks):
    store, ann, bob = tasks
    mine = {"field": "assignee", "op": "eq", "value": "me"}
    ann_has, bob_has = titles(store, ann, mine), titles(store, bob, mine)
    assert ann_has == sorted(n for i, n in enumerate(DUES) if i % 2 == 0)
    assert bob_has == sorted(n for i, n in enumerate(DUES) if i % 2 == 1)
    assert titles(store, ann, {"field": "assignee", "op": "in", "value": ["me"]}) == ann_has
    not_mine = titles(store, ann, {"field": "assignee", "op": "ne", "value": "me"})
    assert "yesterday" not in not_mine and "today" in not_mine and "call-late" in not_mine  # "ne" includes empty
    created_by_me = titles(store, ann, {"field": "created_by", "op": "eq", "value": "me"})
    assert created_by_me == []  # the system created them all
    assert titles(store, SYSTEM, mine) == []  # the system is nobody's "me"


def test_a_saved_view_my_open_tasks_works_for_each_reader_and_every_day(tasks, db, monkeypatch):
    store, ann, bob = tasks
    definition = {"columns": [{"field": "title"}], "sort": "title", "filter": {"and": [
        {"field": "assignee", "op": "eq", "value": "me"},
        {"field": "done", "op": "ne", "value": True},
        {"or": [{"field": "due", "op": "overdue"}, {"field": "due", "op": "next_days", "value": 7}]}]}}
    view = tables.save_view(db, ann, "task", "My open tasks", definition, shared=True)
    tree = tables.get_view(db, bob, "task", view["id"])["definition"]["filter"]
    assert tree == definition["filter"]  # stored as written: resolved when it is used
    assert titles(store, ann, tree) == ["sunday", "yesterday"]
    assert titles(store, bob, tree) == ["last_month", "monday"]  # "today" is bob's but done
    monkeypatch.setattr(relative, "utc_now", lambda: datetime(2026, 12, 12, 12, 0, tzinfo=timezone.utc))
    assert titles(store, ann, tree) == ["in_8", "sunday", "yesterday"]  # a week later, more are overdue
    assert titles(store, bob, tree) == ["last_month", "monday"]


def test_field_rules_evaluate_relative_conditions_like_the_sql(tasks, db):
    store, ann, _bob = tasks
    schema = db.schema()
    task = schema.object("task")
    with store.session(ann) as s:
        matcher = compile_match(s.schema, task, {"and": [{"field": "due", "op": "overdue"},
                                                         {"field": "assignee", "op": "eq", "value": "me"}]})
        ann_id = ann.user_id
        from datetime import date
        assert matcher.matches({"due": date(2026, 12, 2), "assignee": ann_id})
        assert not matcher.matches({"due": date(2026, 12, 3), "assignee": ann_id})
        assert not matcher.matches({"due": date(2026, 12, 2), "assignee": ann_id + 1})
        assert matcher.truth({"due": None, "assignee": ann_id}) is None


@pytest.mark.parametrize("tree, words", [
    ({"field": "due", "op": "next_days"}, ["due", "next_days", "needs a value"]),
    ({"field": "due", "op": "next_days", "value": "soon"}, ["due", "number of days"]),
    ({"field": "due", "op": "last_days", "value": -1}, ["due", "0 to 3660"]),
    ({"field": "due", "op": "next_days", "value": True}, ["due", "number of days"]),
    ({"field": "title", "op": "today"}, ["title", "today", "not supported by a string field"]),
    ({"field": "done", "op": "overdue"}, ["done", "not supported by a boolean field"]),
    ({"field": "title", "op": "eq", "value": "me"}, None),  # "me" is only special for users: plain text here
    ({"field": "assignee", "op": "eq", "value": "you"}, ["assignee"]),
])
def test_bad_relative_conditions_name_the_field_and_the_problem(tasks, tree, words):
    store, ann, _bob = tasks
    if words is None:
        assert titles(store, ann, tree) == []
        return
    with pytest.raises(ValidationError) as info:
        store.list(ann, "task", ListQuery(filter=tree))
    message = " ".join(" ".join(v) if isinstance(v, list) else str(v) for v in info.value.errors.values())
    for word in words:
        assert word in message, message
