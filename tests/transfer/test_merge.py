"""Duplicates already in the database: found by match rules on normalised keys, merged as
one action (the survivor takes the chosen values, children and shares move to it, the
others go to the trash), and undone in one step, on both engines."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from cardbase.schema_engine.actor import Actor
from cardbase.schema_engine.errors import ValidationError
from cardbase.schema_engine.automation_models import Comment, Task
from cardbase.schema_engine.meta_models import ActionRow, User
from cardbase.schema_engine.query.model import ListQuery
from cardbase.transfer.merge import find_duplicates, merge
from transfer_fixture import world


@pytest.fixture
def dupes(db):
    svc, store, who = world(db)
    with db.write() as conn:
        kim = conn.execute(sa.insert(User).values(username="kim", display_name="Kim", is_admin=False)
                           .returning(User.id)).scalar_one()
    with store.session(who, write=True) as s:
        a = s.create("organisation", {"name": "ACME GmbH", "city": "Berlin"})
        b = s.create("organisation", {"name": "acme gmbh ", "city": "berlin"})
        c = s.create("organisation", {"name": "Other", "city": "Bonn"})
        p1 = s.create("person", {"name": "Ann", "email": "ann@x.org", "phone": "+49 30 1234567", "organisation": a["id"]})
        p2 = s.create("person", {"name": "Bob", "email": "Ann@X.org", "organisation": b["id"]})
        p3 = s.create("person", {"name": "Cy", "phone": "030 1234567", "organisation": b["id"]})
        s.share("organisation", b["id"], user=kim, level="change")
    return db, store, who, (a, b, c), (p1, p2, p3), kim


def test_duplicates_found_by_rules(dupes):
    _db, store, who, (a, b, _c), (p1, p2, p3), _kim = dupes
    with store.session(who) as s:
        orgs = find_duplicates(s, "organisation", [["name", "city"]])
        people = find_duplicates(s, "person", [["email"], ["phone"]])
        with pytest.raises(ValidationError, match="not a field"):
            find_duplicates(s, "person", [["salary"]])
    assert [[r["id"] for r in g["records"]] for g in orgs] == [[a["id"], b["id"]]]
    assert {g["rule"][0]: [r["id"] for r in g["records"]] for g in people} == {
        "email": [p1["id"], p2["id"]], "phone": [p1["id"], p3["id"]]}


def test_merge_is_one_action_and_undo_puts_everything_back(dupes):
    db, store, who, (a, b, _c), (p1, p2, p3), kim = dupes
    org_id = store.db.schema().object("organisation").id
    with db.write() as conn:  # a comment and a task on the record that will be merged away
        comment = conn.execute(sa.insert(Comment).values(object_id=org_id, record_id=b["id"], body="call back")
                               .returning(Comment.id)).scalar_one()
        task = conn.execute(sa.insert(Task).values(object_id=org_id, record_id=b["id"], title="Visit")
                            .returning(Task.id)).scalar_one()
    with store.session(who, write=True) as s:
        result = merge(s, "organisation", a["id"], [b["id"]], {"city": b["id"]})
        action = s.last.action_id
    assert result == {"survivor": a["id"], "merged": [b["id"]], "children_moved": 2, "shares_added": 1,
                      "references_moved": 2, "history_moved": 2}
    with db.read() as conn:
        assert conn.execute(sa.select(Comment.record_id).where(Comment.id == comment)).scalar() == a["id"]
        assert conn.execute(sa.select(Task.record_id).where(Task.id == task)).scalar() == a["id"]
    with store.session(who) as s:
        survivor = s.get("organisation", a["id"])
        assert survivor["city"] == "berlin"  # the value picked from the other record
        kids = s.list("person", ListQuery(filter={"field": "organisation", "op": "eq", "value": a["id"]})).data
        assert sorted(k["name"] for k in kids) == ["Ann", "Bob", "Cy"]
        assert s.list("organisation", ListQuery(trash=True)).data[0]["id"] == b["id"]
        assert [(sh["user_id"], sh["level"]) for sh in s.shares_of("organisation", a["id"])] == [(kim, "change")]
    kim_sees = store.get(Actor(user_id=kim, username="kim"), "organisation", a["id"])
    assert kim_sees["id"] == a["id"]  # the share moved with the merge
    with db.read() as conn:
        row = conn.execute(sa.select(ActionRow.__table__).where(ActionRow.id == action)).mappings().one()
    assert row["kind"] == "merge" and row["summary"]["merged"] == [b["code"]]
    with store.session(who, write=True) as s:
        s.undo(action)
    with store.session(who) as s:
        assert s.get("organisation", a["id"])["city"] == "Berlin"
        assert s.get("organisation", b["id"])["name"] == "acme gmbh"
        assert s.get("person", p2["id"])["organisation"].id == b["id"]
        assert s.get("person", p3["id"])["organisation"].id == b["id"]
        assert s.get("person", p1["id"])["organisation"].id == a["id"]
        assert s.shares_of("organisation", a["id"]) == []
    with db.read() as conn:  # the comment and the task are back on their record
        assert conn.execute(sa.select(Comment.record_id).where(Comment.id == comment)).scalar() == b["id"]
        assert conn.execute(sa.select(Task.record_id).where(Task.id == task)).scalar() == b["id"]


def test_merge_refuses_bad_requests_with_nothing_changed(dupes):
    _db, store, who, (a, b, _c), _people, _kim = dupes
    with store.session(who, write=True) as s:
        with pytest.raises(ValidationError, match="at least one other record"):
            merge(s, "organisation", a["id"], [a["id"]])
        with pytest.raises(ValidationError, match="not one of the merged records"):
            merge(s, "organisation", a["id"], [b["id"]], {"city": 999})
        with pytest.raises(ValidationError, match="not a field a merge can choose"):
            merge(s, "organisation", a["id"], [b["id"]], {"code": b["id"]})
    with store.session(who) as s:
        assert len(s.list("organisation").data) == 3
