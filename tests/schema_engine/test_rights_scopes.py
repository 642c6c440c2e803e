"""Record scopes per group and object, parent-following access, the grids' stale-form
check and the configuration log's before/after (issue 13, points 3 and 6 and the bad
input), on both engines."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from cardbase.schema_engine import rights
from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.errors import Conflict, Forbidden, NotFound, ValidationError
from cardbase.schema_engine.meta_models import ConfigChange
from cardbase.schema_engine.query.model import ListQuery
from cardbase.schema_engine.rights.scopes import (field_grid, group_matrix, save_field_grid, save_group_matrix,
                                                  set_parent_access, set_record_scope)
from cardbase.schema_engine.rights.models import ParentAccess, RecordScope
from cardbase.schema_engine.schema_service import SchemaService
from cardbase.schema_engine.store import RecordStore

from rights_fixture import actor, add_group, add_user, join, state

SMALL = {"field": "total", "op": "lt", "value": 1000}


class Shop:
    """Orders with lines (line -> order link), a Juniors and a Staff group, users jo and al."""

    def __init__(self, db):
        self.db = db
        svc = SchemaService(db)
        svc.create_object(SYSTEM, {"name": "order", "label": "Order", "label_plural": "Orders", "fields": [
            {"name": "title", "label": "Title", "type": "string"},
            {"name": "total", "label": "Total", "type": "integer"},
            {"name": "notes", "label": "Notes", "type": "text"}]})
        svc.create_object(SYSTEM, {"name": "line", "label": "Order line", "label_plural": "Order lines", "fields": [
            {"name": "item", "label": "Item", "type": "string"},
            {"name": "order", "label": "Order", "type": "link", "options": {"target": "order", "on_delete": "cascade"}}]})
        self.store = RecordStore(db)
        self.root = actor(db, add_user(db, "root", admin=True))
        self.jo_id, self.al_id = add_user(db, "jo"), add_user(db, "al")
        self.juniors, self.staff = add_group(db, "Juniors"), add_group(db, "Staff")
        join(db, self.jo_id, self.juniors)
        self.orders = {}
        self.lines = {}
        for title, total in (("small", 500), ("big", 5000)):
            self.orders[title] = self.store.create(SYSTEM, "order", {"title": title, "total": total})["id"]
            for n in (1, 2):
                self.lines[f"{title}{n}"] = self.store.create(SYSTEM, "line", {
                    "item": f"{title}{n}", "order": self.orders[title]})["id"]

    @property
    def jo(self):
        return actor(self.db, self.jo_id)

    def titles(self, who):
        return sorted(r["title"] for r in self.store.list(who, "order", ListQuery(fields=["title"])).data)

    def items(self, who, **query):
        return sorted(r["item"] for r in self.store.list(who, "line", ListQuery(fields=["item"], **query)).data)


@pytest.fixture
def shop(db):
    return Shop(db)


# ---- point 3: the record scope restricts within a group ----------------------------------------
def test_rule_view_alone_restricts_nothing_but_the_scope_rule_views_does(shop):
    rights.set_object_rights(shop.db, shop.root, "Juniors", "order", ["read", "edit"])
    rights.save_rule_view(shop.db, shop.root, "Juniors", "order", "Small orders", SMALL)
    assert shop.titles(shop.jo) == ["big", "small"]  # the complaint: rights add up
    set_record_scope(shop.db, shop.root, "Juniors", "order", "rule_views")
    assert shop.titles(shop.jo) == ["small"]
    assert shop.store.record_rights(shop.jo, "order", shop.orders["small"]) == {
        "read": True, "edit": True, "delete": False}
    with pytest.raises(NotFound):
        shop.store.get(shop.jo, "order", shop.orders["big"])
    with pytest.raises(NotFound):
        shop.store.update(shop.jo, "order", shop.orders["big"], {"title": "mine"}, version=1)


def test_scope_none_and_own_and_shared(shop):
    rights.set_object_rights(shop.db, shop.root, "Juniors", "order", ["read", "create"])
    rights.save_rule_view(shop.db, shop.root, "Juniors", "order", "Small orders", SMALL)
    set_record_scope(shop.db, shop.root, "Juniors", "order", "none")
    assert shop.titles(shop.jo) == []  # not even the rule view grants
    mine = shop.store.create(shop.jo, "order", {"title": "mine", "total": 1})["id"]
    assert shop.titles(shop.jo) == []  # create still works, reading nothing
    set_record_scope(shop.db, shop.root, "Juniors", "order", "own_and_shared")
    assert shop.titles(shop.jo) == ["mine", "small"]  # own + rule view
    assert mine


def test_rights_add_up_across_groups_each_within_its_scope(shop):
    rights.set_object_rights(shop.db, shop.root, "Juniors", "order", ["read"])
    rights.save_rule_view(shop.db, shop.root, "Juniors", "order", "Small orders", SMALL)
    set_record_scope(shop.db, shop.root, "Juniors", "order", "rule_views")
    rights.set_object_rights(shop.db, shop.root, "Staff", "order", ["read"])
    join(shop.db, shop.jo_id, shop.staff)
    assert shop.titles(shop.jo) == ["big", "small"]  # Staff reads all: grants add up
    set_record_scope(shop.db, shop.root, "Staff", "order", "none")
    assert shop.titles(shop.jo) == ["small"]


def test_explain_names_the_scope(shop):
    rights.set_object_rights(shop.db, shop.root, "Juniors", "order", ["read"])
    rights.save_rule_view(shop.db, shop.root, "Juniors", "order", "Small orders", SMALL, level="read")
    set_record_scope(shop.db, shop.root, "Juniors", "order", "rule_views")
    small = rights.explain(shop.db, shop.jo, "order", shop.orders["small"])
    assert small["rights"]["read"]["allowed"] is True
    assert "rule view 'Small orders'" in small["rights"]["read"]["reasons"][0]
    big = rights.explain(shop.db, shop.jo, "order", shop.orders["big"])
    assert big["rights"]["read"]["allowed"] is False
    assert "record scope" in big["rights"]["read"]["reasons"][0]


# ---- point 6: parent-following access ------------------------------------------------------------
def test_order_lines_follow_their_order_in_every_read_and_write(shop):
    rights.set_object_rights(shop.db, shop.root, "Juniors", "order", ["read", "edit"])
    rights.set_object_rights(shop.db, shop.root, "Juniors", "line", ["read", "edit"])
    rights.save_rule_view(shop.db, shop.root, "Juniors", "order", "Small orders", SMALL)
    set_record_scope(shop.db, shop.root, "Juniors", "order", "rule_views")
    assert shop.items(shop.jo) == ["big1", "big2", "small1", "small2"]  # the leak
    set_parent_access(shop.db, shop.root, "line", "order")
    jo = shop.jo
    assert shop.items(jo) == ["small1", "small2"]
    assert shop.items(jo, search="big1") == []
    assert shop.store.count(jo, "line") == (2, False)
    with pytest.raises(NotFound):
        shop.store.get(jo, "line", shop.lines["big1"])
    with pytest.raises(NotFound):
        shop.store.update(jo, "line", shop.lines["big1"], {"item": "x"}, version=1)
    assert shop.store.update(jo, "line", shop.lines["small1"], {"item": "small1"}, version=1)["item"] == "small1"
    assert shop.store.record_rights(jo, "line", shop.lines["small1"]) == {"read": True, "edit": True, "delete": False}
    why = rights.explain(shop.db, jo, "line", shop.lines["small1"])["rights"]["read"]
    assert why["allowed"] and "follow their Order" in why["reasons"][0]
    assert not rights.explain(shop.db, jo, "line", shop.lines["big2"])["rights"]["read"]["allowed"]
    # the object right on lines still counts: without it nothing, whatever the order allows
    rights.set_object_rights(shop.db, shop.root, "Juniors", "line", [])
    with pytest.raises(Forbidden):
        shop.store.list(jo, "line")
    # a parent visible as a whole lets every line through
    rights.set_object_rights(shop.db, shop.root, "Juniors", "line", ["read"])
    set_record_scope(shop.db, shop.root, "Juniors", "order", "all")
    assert shop.items(shop.jo) == ["big1", "big2", "small1", "small2"]


def test_a_parent_following_loop_is_refused_and_changes_nothing(shop):
    SchemaService(shop.db).add_field(SYSTEM, "order", {"name": "main_line", "label": "Main line", "type": "link",
                                                       "options": {"target": "line", "on_delete": "set_null"}})
    set_parent_access(shop.db, shop.root, "line", "order")
    before = state(shop.db)
    with pytest.raises(ValidationError, match="parent-following would loop: Orders follow Order lines follow Orders"):
        set_parent_access(shop.db, shop.root, "order", "main_line")
    with pytest.raises(ValidationError, match="is not a link"):
        set_parent_access(shop.db, shop.root, "order", "title")
    assert state(shop.db) == before
    with shop.db.read() as conn:
        assert conn.execute(sa.select(ParentAccess.object_id)).scalars().all() == [
            shop.db.schema().object("line").id]


def test_only_admins_change_scopes_and_parents(shop):
    with pytest.raises(Forbidden):
        set_record_scope(shop.db, shop.jo, "Juniors", "order", "all")
    with pytest.raises(Forbidden):
        set_parent_access(shop.db, shop.jo, "line", "order")
    with pytest.raises(ValidationError, match="'some' is not a record scope"):
        set_record_scope(shop.db, shop.root, "Juniors", "order", "some")


# ---- the grids: stale forms, logs with before and after -------------------------------------------
def test_matrix_save_logs_before_and_after_and_refuses_a_stale_form(shop):
    seen = group_matrix(shop.db, "Juniors")
    other_admin_form = group_matrix(shop.db, "Juniors")["fingerprint"]
    assert save_group_matrix(shop.db, shop.root, "Juniors", {"order": {"rights": ["read"], "scope": "rule_views"}},
                             seen["fingerprint"]) == 1
    with shop.db.read() as conn:
        log = conn.execute(sa.select(ConfigChange.__table__).order_by(ConfigChange.id.desc())).first()
        assert log.action == "rights.object" and log.target == "order"
        assert log.details["before"] == {"rights": [], "scope": None}
        assert log.details["after"] == {"rights": ["read"], "scope": "rule_views"}
        assert conn.execute(sa.select(RecordScope.scope)).scalar() == "rule_views"
    before = state(shop.db)
    with pytest.raises(Conflict, match="changed by someone else"):
        save_group_matrix(shop.db, shop.root, "Juniors", {"order": {"rights": ["read", "delete"], "scope": "all"}},
                          other_admin_form)
    assert state(shop.db) == before
    with pytest.raises(ValidationError, match="'maybe' is not a record scope"):
        save_group_matrix(shop.db, shop.root, "Juniors", {"order": {"rights": [], "scope": "maybe"}}, None)
    assert state(shop.db) == before
    rows = {r["object"].api_name: r for r in group_matrix(shop.db, "Juniors")["objects"]}
    assert rows["order"]["rights"] == {"read"} and rows["order"]["scope"] == "rule_views"


def test_field_grid_saves_together_and_refuses_a_stale_form(shop):
    grid = field_grid(shop.db, "order")
    notes = shop.db.schema().object("order").field("notes").stored_id
    assert save_field_grid(shop.db, shop.root, "order", {(shop.juniors, notes): "hidden"}, grid["fingerprint"]) == 1
    assert field_grid(shop.db, "order")["levels"] == {(shop.juniors, notes): "hidden"}
    rights.set_object_rights(shop.db, shop.root, "Juniors", "order", ["read"])
    assert "notes" not in shop.store.list(shop.jo, "order").data[0]
    with shop.db.read() as conn:
        log = conn.execute(sa.select(ConfigChange.__table__).where(ConfigChange.action == "rights.field")).one()
        assert log.details["before"] is None and log.details["after"] == "hidden"
    before = state(shop.db)
    with pytest.raises(Conflict):
        save_field_grid(shop.db, shop.root, "order", {(shop.juniors, notes): None}, grid["fingerprint"])
    assert state(shop.db) == before


def test_every_rights_change_is_logged_with_before_and_after(shop):
    rights.set_object_rights(shop.db, shop.root, "Juniors", "order", ["read"])
    rights.set_object_rights(shop.db, shop.root, "Juniors", "order", ["read", "edit"])
    rights.set_field_right(shop.db, shop.root, "Juniors", "order", "notes", "read_only")
    view = rights.save_rule_view(shop.db, shop.root, "Juniors", "order", "Small", SMALL)
    rights.delete_rule_view(shop.db, shop.root, view)
    set_record_scope(shop.db, shop.root, "Juniors", "order", "none")
    set_parent_access(shop.db, shop.root, "line", "order")
    rights.set_access_mode(shop.db, shop.root, "order", "own_and_shared")
    with shop.db.read() as conn:
        rows = conn.execute(sa.select(ConfigChange.action, ConfigChange.details).where(ConfigChange.action.like("rights.%"))
                            .order_by(ConfigChange.id)).all()
    assert [a for a, _ in rows] == ["rights.object", "rights.object", "rights.field", "rights.rule_view",
                                    "rights.rule_view.delete", "rights.scope", "rights.parent", "rights.mode"]
    assert rows[1][1]["before"] == ["read"] and rows[1][1]["after"] == ["edit", "read"]
    assert rows[4][1]["before"]["level"] == "read" and rows[4][1]["after"] is None
    assert rows[6][1] == {"before": None, "after": "order"}
    assert rows[7][1]["before"] == "all" and rows[7][1]["after"] == "own_and_shared"


def test_records_following_their_parent_are_not_shared_on_their_own(shop):
    set_parent_access(shop.db, shop.root, "line", "order")
    before = state(shop.db)
    with shop.store.session(shop.root, write=True) as s, pytest.raises(ValidationError, match="share that record"):
        s.share("line", shop.lines["big1"], user="jo", level="read")
    assert state(shop.db) == before


def test_rule_views_relative_to_today_and_to_the_reader(shop, monkeypatch):
    """A rule view "due this month" follows the calendar without any rights change, and
    "owner is me" means the user whose rights they are -- also when an admin asked first."""
    from datetime import date, datetime, timezone

    from cardbase.schema_engine.query import relative

    SchemaService(shop.db).add_field(SYSTEM, "order", {"name": "due", "label": "Due", "type": "date"})
    table = shop.db.schema().table("order")
    due = shop.db.schema().object("order").field("due").column
    with shop.db.write() as conn:
        conn.execute(sa.update(table).where(table.c.id == shop.orders["small"]).values({due: date(2026, 12, 20)}))
        conn.execute(sa.update(table).where(table.c.id == shop.orders["big"]).values(
            {due: date(2027, 1, 10), "owner_id": shop.jo_id}))
    rights.set_object_rights(shop.db, shop.root, "Juniors", "order", ["read"])
    set_record_scope(shop.db, shop.root, "Juniors", "order", "rule_views")
    rights.save_rule_view(shop.db, shop.root, "Juniors", "order", "This month", {"field": "due", "op": "this_month"})
    monkeypatch.setattr(relative, "utc_now", lambda: datetime(2026, 12, 15, 12, tzinfo=timezone.utc))
    assert shop.titles(shop.jo) == ["small"]
    monkeypatch.setattr(relative, "utc_now", lambda: datetime(2027, 1, 5, 12, tzinfo=timezone.utc))
    assert shop.titles(shop.jo) == ["big"]  # the next month, nothing else changed
    rights.delete_rule_view(shop.db, shop.root, rights.rule_views(shop.db, "order")[0]["id"])
    rights.save_rule_view(shop.db, shop.root, "Juniors", "order", "Mine", {"field": "owner", "op": "eq", "value": "me"})
    assert rights.explain(shop.db, shop.jo, "order", shop.orders["big"])["rights"]["read"]["allowed"] is True
    with shop.store.session(shop.root) as s:  # an admin's session is open when the explain runs
        assert rights.explain(shop.db, shop.jo, "order", shop.orders["small"])["rights"]["read"]["allowed"] is False
        assert s.actor is shop.root
    assert shop.titles(shop.jo) == ["big"]
