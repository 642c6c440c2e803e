"""Users, groups and rights: one test per rule type (object rights, access mode and
ownership, shares, field rights, rule views, links, configure, explain), and every abuse
the issue lists refused with a clear error and no change -- on both engines."""
from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from cardbase.schema_engine import rights
from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.db import Database
from cardbase.schema_engine.errors import Forbidden, InUse, NotFound, ValidationError
from cardbase.schema_engine.meta_models import Group, User
from cardbase.schema_engine.query.model import AggregateQuery, ListQuery
from cardbase.schema_engine.rights.models import ObjectRight, Share
from cardbase.schema_engine.schema_service import SchemaService
from cardbase.schema_engine.store import RecordStore
from cardbase.schema_engine.rights.access import AccessPolicy
from cardbase.schema_engine.values import LinkRef

from crm_fixture import crm
from rights_fixture import actor, add_group, add_user, join, state

SMALL = {"field": "amount", "op": "lt", "value": 100000}


class World:
    """The CRM with deals and organisations, three users and three groups."""

    def __init__(self, db):
        self.db = db
        self.svc, self.store = crm(db)
        self.svc.add_field(SYSTEM, "deal", {"name": "note", "label": "Note", "type": "text"})
        self.ids = {name: add_user(db, name) for name in ("ann", "ben", "cat")}
        self.admin_id = add_user(db, "root", admin=True)
        self.groups = {name: add_group(db, name) for name in ("Sales", "Junior sales", "Berlin")}
        s = self.store
        self.acme = s.create(SYSTEM, "organisation", {"name": "ACME", "city": "Berlin", "vat": "DE1"})["id"]
        self.globex = s.create(SYSTEM, "organisation", {"name": "Globex", "city": "Paris"})["id"]
        self.deals = {}
        for title, amount, org, note in (("small", "5000", self.acme, "pineapple"),
                                         ("medium", "50000", self.globex, "gooseberry"),
                                         ("large", "500000", self.acme, "secret walnut")):
            self.deals[title] = s.create(SYSTEM, "deal", {"title": title, "amount": amount,
                                                          "organisation": org, "note": note})["id"]

    def actor(self, name):
        return actor(self.db, self.ids[name] if name in self.ids else self.admin_id)

    def member(self, user, *groups):
        join(self.db, self.ids[user], *[self.groups[g] for g in groups])
        return self.actor(user)

    def own(self, title, user):
        """Make ``user`` the owner of a deal (as the system, no rights involved)."""
        table = self.db.schema().table("deal")
        with self.db.write() as conn:
            conn.execute(sa.update(table).where(table.c.id == self.deals[title]).values(owner_id=self.ids[user]))

    def titles(self, who, **query):
        return sorted(r["title"] for r in self.store.list(who, "deal", ListQuery(fields=["title"], **query)).data)


@pytest.fixture
def w(db):
    return World(db)


# ---- 1. users and groups ---------------------------------------------------------------------
def test_groups_are_many_to_many_and_reach_the_actor(w):
    ann = w.member("ann", "Sales", "Berlin")
    w.member("ben", "Sales")
    assert ann.group_ids == {w.groups["Sales"], w.groups["Berlin"]}
    assert w.actor("ben").group_ids == {w.groups["Sales"]}


def test_admins_bypass_every_rule(w):
    root = w.actor("root")
    rights.set_access_mode(w.db, SYSTEM, "deal", "own_and_shared")
    rights.set_field_right(w.db, SYSTEM, "Sales", "deal", "amount", "hidden")
    assert w.titles(root) == ["large", "medium", "small"]
    assert w.store.get(root, "deal", w.deals["large"])["amount"] == Decimal("500000.00")


# ---- 2. object rights ------------------------------------------------------------------------
def test_without_object_rights_nothing_is_readable_or_writable(w):
    ann = w.member("ann", "Sales")
    for call in (lambda: w.store.list(ann, "deal"), lambda: w.store.count(ann, "deal"),
                 lambda: w.store.get(ann, "deal", w.deals["small"]),
                 lambda: w.store.aggregate(ann, "deal", AggregateQuery(), purpose="read"),
                 lambda: w.store.create(ann, "deal", {"title": "x"})):
        with pytest.raises(Forbidden):
            call()


def test_each_object_right_gates_its_action(w):
    ann = w.member("ann", "Sales")
    rights.set_object_rights(w.db, SYSTEM, "Sales", "deal", ["read"])
    assert w.titles(ann) == ["large", "medium", "small"]
    with pytest.raises(Forbidden, match="you may not create Deals"):
        w.store.create(ann, "deal", {"title": "x"})
    with pytest.raises(Forbidden, match="you may not edit"):
        w.store.update(ann, "deal", w.deals["small"], {"title": "y"}, version=1)
    with pytest.raises(Forbidden, match="you may not delete"):
        w.store.delete(ann, "deal", w.deals["small"])
    for right in ("export", "print", "report", "configure"):
        assert not w.store.can(ann, "deal", right)
        with pytest.raises(Forbidden):
            w.store.require(ann, "deal", right)
    with pytest.raises(Forbidden, match="export"):
        list(w.store.export(ann, "deal"))

    rights.set_object_rights(w.db, SYSTEM, "Sales", "deal", ["read", "create", "edit", "delete", "export",
                                                             "print", "report"])
    new = w.store.create(ann, "deal", {"title": "new"})
    assert w.store.update(ann, "deal", new["id"], {"title": "newer"}, version=1)["title"] == "newer"
    w.store.delete(ann, "deal", new["id"])
    assert sum(len(b) for b in w.store.export(ann, "deal")) == 3
    for right in ("print", "report"):
        w.store.require(ann, "deal", right)
    assert w.store.can(ann, "deal", "configure") is False


def test_configure_right_gates_the_configurator_per_object(w):
    ann = w.member("ann", "Sales")
    svc = SchemaService(w.db)
    with pytest.raises(Forbidden, match="configure right"):
        svc.add_field(ann, "deal", {"name": "stage", "label": "Stage", "type": "string"})
    assert not rights.can_configure(w.db, ann)
    rights.set_object_rights(w.db, SYSTEM, "Sales", "deal", ["configure"])
    assert rights.can_configure(w.db, ann) and rights.can_configure(w.db, ann, "deal")
    assert not rights.can_configure(w.db, ann, "organisation")
    svc.add_field(ann, "deal", {"name": "stage", "label": "Stage", "type": "string"})
    svc.update_field(ann, "deal", "stage", {"label": "Phase"})
    before = state(w.db)
    with pytest.raises(Forbidden, match="configure right"):
        svc.add_field(ann, "organisation", {"name": "x", "label": "X", "type": "string"})
    with pytest.raises(Forbidden, match="configure right"):  # new objects and deletes: admins
        svc.create_object(ann, {"name": "thing", "label": "Thing"})
    with pytest.raises(Forbidden, match="configure right"):
        svc.delete_object(ann, "deal")
    assert state(w.db) == before


# ---- 3. record rights: owner, access mode, shares --------------------------------------------
def test_access_mode_own_and_shared_limits_groups_to_their_own_records(w):
    ann, ben = w.member("ann", "Sales"), w.member("ben", "Sales")
    rights.set_object_rights(w.db, SYSTEM, "Sales", "deal", ["read", "create", "edit"])
    assert w.titles(ann) == ["large", "medium", "small"]  # mode "all" by default
    rights.set_access_mode(w.db, SYSTEM, "deal", "own_and_shared")
    assert w.titles(ann) == []
    w.own("small", "ann")
    mine = w.store.create(ann, "deal", {"title": "mine"})
    assert mine["owner"].id == w.ids["ann"]  # the creator owns it
    assert w.titles(ann) == ["mine", "small"] and w.titles(ben) == []
    with pytest.raises(NotFound):  # the single record agrees with the list
        w.store.get(ben, "deal", mine["id"])
    with pytest.raises(NotFound):
        w.store.update(ben, "deal", mine["id"], {"title": "hijack"}, version=1)
    assert w.store.update(ann, "deal", mine["id"], {"title": "still mine"}, version=1)["version"] == 2


def test_shares_to_users_and_groups_at_read_change_full(w):
    ann, ben, cat = w.member("ann", "Sales"), w.member("ben", "Berlin"), w.member("cat")
    rights.set_object_rights(w.db, SYSTEM, "Sales", "deal", ["read", "edit", "delete"])
    rights.set_access_mode(w.db, SYSTEM, "deal", "own_and_shared")
    w.own("small", "ann")
    small = w.deals["small"]
    w.store.share(ann, "deal", small, user="cat", level="read")
    w.store.share(ann, "deal", small, group="Berlin", level="change")
    assert w.titles(cat) == ["small"] and w.titles(ben) == ["small"]
    assert w.store.record_rights(cat, "deal", small) == {"read": True, "edit": False, "delete": False}
    assert w.store.record_rights(ben, "deal", small) == {"read": True, "edit": True, "delete": False}
    with pytest.raises(Forbidden):
        w.store.update(cat, "deal", small, {"title": "x"}, version=1)
    w.store.update(ben, "deal", small, {"title": "smaller"}, version=1)
    with pytest.raises(Forbidden):
        w.store.delete(ben, "deal", small)
    w.store.share(ann, "deal", small, user="cat", level="full")  # upgrade
    assert w.store.record_rights(cat, "deal", small) == {"read": True, "edit": True, "delete": True}
    assert [s["level"] for s in w.store.shares_of(ann, "deal", small)] == ["full", "change"]
    w.store.unshare(ann, "deal", small, group="Berlin")
    with pytest.raises(Forbidden):  # nothing left that lets ben read deals
        w.titles(ben)
    w.store.delete(cat, "deal", small)


def test_shares_are_a_subquery_not_an_id_list(w):
    ann = w.member("ann", "Sales")
    rights.set_object_rights(w.db, SYSTEM, "Sales", "deal", ["read"])
    rights.set_access_mode(w.db, SYSTEM, "deal", "own_and_shared")
    with w.db.write() as conn:  # thousands of shares
        conn.execute(sa.insert(Share), [{"object_id": w.db.schema().object("deal").id, "record_id": 10_000 + i,
                                         "user_id": w.ids["ann"], "level": "read"} for i in range(3000)])
    with w.db.read() as conn:
        schema = w.db.schema(conn)
        obj = schema.object("deal")
        clause = AccessPolicy().access(conn, schema, ann).row_filter(obj, schema.table(obj))
        sql = str(sa.select(schema.table(obj).c.id).where(clause).compile(conn))
        params = sa.select(schema.table(obj).c.id).where(clause).compile(conn).params
    # a sub-query on cb_share: a correlated EXISTS (SQLite) or IN (SELECT ...) (PostgreSQL's hashed sub-plan)
    assert "cb_share" in sql and ("EXISTS (SELECT" in sql.upper() or "IN (SELECT" in sql.upper())
    assert len(params) < 10  # the user, the object, a few literals: not one per share
    assert w.titles(ann) == []


def test_giving_a_record_away_needs_full_access(w):
    ann, ben = w.member("ann", "Sales"), w.member("ben", "Sales")
    rights.set_object_rights(w.db, SYSTEM, "Sales", "deal", ["read", "create", "edit"])
    rights.set_access_mode(w.db, SYSTEM, "deal", "own_and_shared")
    mine = w.store.create(ann, "deal", {"title": "mine"})
    before = state(w.db)
    with pytest.raises(Forbidden, match="give this 'Deal' record away"):  # no delete right: not full
        w.store.set_owner(ann, "deal", mine["id"], w.ids["ben"])
    assert state(w.db) == before
    rights.set_object_rights(w.db, SYSTEM, "Sales", "deal", ["read", "create", "edit", "delete"])
    with pytest.raises(ValidationError, match="no active user with id 999"):
        w.store.set_owner(ann, "deal", mine["id"], 999)
    with pytest.raises(ValidationError, match="must be the id of a user"):
        w.store.set_owner(ann, "deal", mine["id"], "ben")
    assert w.store.set_owner(ann, "deal", mine["id"], w.ids["ben"]) is None  # gone from ann's view
    assert w.titles(ann) == [] and w.titles(ben) == ["mine"]
    history = w.store.history(ben, "deal", mine["id"])
    assert history[0]["changes"][0]["field"] == "owner"


# ---- 4. field rights -------------------------------------------------------------------------
def test_hidden_field_is_absent_everywhere_and_cannot_be_used(w):
    ann = w.member("ann", "Sales")
    rights.set_object_rights(w.db, SYSTEM, "Sales", "deal", ["read", "edit", "export"])
    w.store.update(SYSTEM, "deal", w.deals["large"], {"amount": "600000"}, version=1)
    rights.set_field_right(w.db, SYSTEM, "Sales", "deal", "amount", "hidden")
    rights.set_field_right(w.db, SYSTEM, "Sales", "deal", "note", "hidden")
    large = w.deals["large"]
    assert "amount" not in w.store.get(ann, "deal", large) and "note" not in w.store.get(ann, "deal", large)
    assert all("amount" not in r for r in w.store.list(ann, "deal").data)
    assert all("amount" not in r for batch in w.store.export(ann, "deal") for r in batch)
    assert all(c["field"] not in ("amount", "note") for e in w.store.history(ann, "deal", large)
               for c in e["changes"])
    assert w.store.history(SYSTEM, "deal", large)[0]["changes"][0]["field"] == "amount"
    # not filterable, sortable, groupable, summable or searchable -- the same error as an unknown field
    unknown = "'amount': object 'deal' has no field 'amount'"
    for call in (lambda: w.store.list(ann, "deal", ListQuery(filter={"field": "amount", "op": "gt", "value": 1})),
                 lambda: w.store.count(ann, "deal", filter={"field": "amount", "op": "gt", "value": 1}),
                 lambda: w.store.list(ann, "deal", ListQuery(sort="-amount")),
                 lambda: w.store.list(ann, "deal", ListQuery(fields=["amount"])),
                 lambda: w.store.aggregate(ann, "deal", AggregateQuery(group_by=["amount"]), purpose="read"),
                 lambda: w.store.aggregate(ann, "deal", AggregateQuery(metrics=[{"op": "sum", "field": "amount"}]),
                                           purpose="read")):
        with pytest.raises(ValidationError) as err:
            call()
        assert unknown in err.value.message
    assert w.store.count(SYSTEM, "deal", search="walnut") == (1, False)
    assert w.store.count(ann, "deal", search="walnut") == (0, False)  # hidden text finds nothing
    assert w.titles(ann, search="walnut") == []
    assert w.titles(ann, search="large") == ["large"]  # visible fields are still searched
    before = state(w.db)
    with pytest.raises(ValidationError) as err:  # writing it is refused like an unknown field
        w.store.update(ann, "deal", large, {"amount": "1"}, version=2)
    assert err.value.errors == {"amount": ["is not a field of 'deal'"]}
    assert state(w.db) == before


def test_read_only_field_is_shown_but_not_written(w):
    ann = w.member("ann", "Sales")
    rights.set_object_rights(w.db, SYSTEM, "Sales", "deal", ["read", "create", "edit"])
    rights.set_field_right(w.db, SYSTEM, "Sales", "deal", "amount", "read_only")
    assert w.store.get(ann, "deal", w.deals["small"])["amount"] == Decimal("5000.00")
    before = state(w.db)
    with pytest.raises(ValidationError) as err:
        w.store.update(ann, "deal", w.deals["small"], {"amount": "1", "title": "t"}, version=1)
    assert err.value.errors == {"amount": ["is read-only for you"]}
    with pytest.raises(ValidationError):
        w.store.create(ann, "deal", {"title": "t", "amount": "1"})
    assert state(w.db) == before
    assert w.store.update(ann, "deal", w.deals["small"], {"title": "t"}, version=1)["title"] == "t"


def test_a_field_restriction_holds_unless_another_group_grants_more(w):
    ann = w.member("ann", "Sales", "Junior sales")
    ben = w.member("ben", "Junior sales", "Berlin")
    for g in ("Sales", "Junior sales", "Berlin"):
        rights.set_object_rights(w.db, SYSTEM, g, "deal", ["read", "edit"])
    rights.set_field_right(w.db, SYSTEM, "Junior sales", "deal", "amount", "hidden")
    rights.set_field_right(w.db, SYSTEM, "Sales", "deal", "amount", "read_only")
    # ann: hidden (Junior) + read-only (Sales) -> read-only; ben: hidden, Berlin says nothing -> hidden
    assert "amount" in w.store.get(ann, "deal", w.deals["small"])
    assert "amount" not in w.store.get(ben, "deal", w.deals["small"])
    rights.set_field_right(w.db, SYSTEM, "Berlin", "deal", "amount", "editable")
    assert w.store.update(w.actor("ben"), "deal", w.deals["small"], {"amount": "6"}, version=1)["amount"] == 6


# ---- 5. rule views ---------------------------------------------------------------------------
def test_rule_view_grants_the_records_it_matches(w):
    ann = w.member("ann", "Junior sales")
    rights.save_rule_view(w.db, SYSTEM, "Junior sales", "deal", "Small deals", SMALL, level="change")
    assert w.titles(ann) == ["medium", "small"]
    assert w.store.count(ann, "deal") == (2, False)
    with pytest.raises(NotFound):
        w.store.get(ann, "deal", w.deals["large"])
    assert w.store.update(ann, "deal", w.deals["small"], {"amount": "6000"}, version=1)["amount"] == 6000
    before = state(w.db)
    with pytest.raises(Forbidden, match="out of what you may edit"):  # cannot move it out of reach
        w.store.update(ann, "deal", w.deals["small"], {"amount": "200000"}, version=2)
    with pytest.raises(Forbidden):  # change is not full: no delete
        w.store.delete(ann, "deal", w.deals["small"])
    assert state(w.db) == before


def test_rule_views_follow_links_and_survive_renames(w):
    ann = w.member("ann", "Berlin")
    rights.save_rule_view(w.db, SYSTEM, "Berlin", "deal", "Berlin deals",
                          {"field": "organisation.city", "op": "eq", "value": "Berlin"})
    assert w.titles(ann) == ["large", "small"]
    w.svc.update_field(SYSTEM, "organisation", "city", {"name": "town", "label": "Town"})
    assert w.titles(w.actor("ann")) == ["large", "small"]
    assert rights.rule_views(w.db, "deal")[0]["filter"] == {"field": "organisation.town", "op": "eq",
                                                            "value": "Berlin"}
    with pytest.raises(InUse) as err:
        w.svc.remove_field(SYSTEM, "organisation", "town")
    assert "rule view 'Berlin deals' of group 'Berlin' uses it" in err.value.usages


def test_grants_add_up_across_groups_shares_and_rule_views(w):
    ann = w.member("ann", "Junior sales", "Berlin")
    rights.set_access_mode(w.db, SYSTEM, "deal", "own_and_shared")
    rights.set_object_rights(w.db, SYSTEM, "Berlin", "deal", ["read"])
    rights.save_rule_view(w.db, SYSTEM, "Junior sales", "deal", "Medium", {"field": "title", "op": "eq",
                                                                            "value": "medium"})
    assert w.titles(ann) == ["medium"]
    w.own("small", "ann")
    w.store.share(SYSTEM, "deal", w.deals["large"], group="Berlin", level="read")
    assert w.titles(ann) == ["large", "medium", "small"]


# ---- 6. links respect rights -----------------------------------------------------------------
def test_links_to_invisible_records_are_restricted(w):
    ann = w.member("ann", "Sales")
    rights.set_object_rights(w.db, SYSTEM, "Sales", "deal", ["read", "create", "edit"])
    rights.set_object_rights(w.db, SYSTEM, "Sales", "organisation", ["read"])
    rights.set_access_mode(w.db, SYSTEM, "organisation", "own_and_shared")
    w.store.share(SYSTEM, "organisation", w.globex, user="ann")
    deal = w.store.get(ann, "deal", w.deals["small"])
    assert deal["organisation"] == LinkRef(w.acme, None, restricted=True)
    assert w.store.to_json("deal", deal)["organisation"] == {"id": w.acme, "display": None, "restricted": True}
    assert w.store.get(ann, "deal", w.deals["medium"])["organisation"] == LinkRef(w.globex, "Globex")
    page = w.store.list(ann, "deal", ListQuery(fields=["title", "organisation.name", "organisation.city"],
                                               sort="title"))
    assert [(r["title"], r["organisation.name"]) for r in page.data] == [
        ("large", None), ("medium", "Globex"), ("small", None)]
    # paths through the hidden organisation cannot be used to find out about it
    assert w.titles(ann, filter={"field": "organisation.city", "op": "eq", "value": "Berlin"}) == []
    groups = w.store.aggregate(ann, "deal", AggregateQuery(group_by=["organisation"]), purpose="read")
    assert {(g["organisation"], g["count"]) for g in groups} == {
        (LinkRef(w.acme, None, restricted=True), 2), (LinkRef(w.globex, "Globex"), 1)}
    # the picker offers visible records only; an invisible one cannot be linked
    assert w.store.link_choices(ann, "deal", "organisation") == [LinkRef(w.globex, "Globex")]
    assert w.store.link_choices(ann, "deal", "organisation", search="acm") == []
    assert w.store.link_choices(SYSTEM, "deal", "organisation", search="acm") == [LinkRef(w.acme, "ACME")]
    with pytest.raises(ValidationError) as err:
        w.store.create(ann, "deal", {"title": "x", "organisation": w.acme})
    assert err.value.errors["organisation"] == [f"there is no 'Organisation' record with id {w.acme}"]
    # a record read and sent back unchanged keeps its restricted link
    small = w.store.get(ann, "deal", w.deals["small"])
    saved = w.store.update(ann, "deal", small["id"], {"title": "s2", "organisation": small["organisation"]},
                           version=small["version"])
    assert saved["organisation"] == LinkRef(w.acme, None, restricted=True)


# ---- 7. explain ------------------------------------------------------------------------------
def test_explain_names_the_rule_behind_each_right(w):
    ann = w.member("ann", "Junior sales", "Sales")
    rights.set_access_mode(w.db, SYSTEM, "deal", "own_and_shared")
    rights.set_object_rights(w.db, SYSTEM, "Sales", "deal", ["read", "report"])
    rights.save_rule_view(w.db, SYSTEM, "Junior sales", "deal", "Small deals", SMALL, level="change")
    rights.set_field_right(w.db, SYSTEM, "Junior sales", "deal", "note", "hidden")
    w.own("medium", "ann")
    w.store.share(SYSTEM, "deal", w.deals["large"], user="ann", level="full")
    small = rights.explain(w.db, ann, "deal", w.deals["small"])["rights"]
    assert small["edit"] == {"allowed": True, "reasons": [
        "rule view 'Small deals' of group 'Junior sales' (change) matches the record"]}
    assert not small["delete"]["allowed"] and small["delete"]["reasons"][0].startswith("denied:")
    assert small["report"] == {"allowed": True, "reasons": ["group 'Sales' has report on Deals"]}
    assert not small["export"]["allowed"]
    medium = rights.explain(w.db, ann, "deal", w.deals["medium"])["rights"]["read"]["reasons"]
    assert any(r.startswith("owner:") for r in medium) and any("rule view" in r for r in medium)
    large = rights.explain(w.db, ann, "deal", w.deals["large"])
    assert large["rights"]["delete"] == {"allowed": True, "reasons": ["shared with user 'ann' at full"]}
    assert large["fields"]["note"] == {"level": "hidden", "reasons": [
        "group 'Junior sales' sets hidden", "the highest level of the user's groups counts: hidden"]}
    for title, rid in w.deals.items():  # the explanation agrees with the store
        told = rights.explain(w.db, ann, "deal", rid)["rights"]
        try:
            held = w.store.record_rights(ann, "deal", rid)
        except NotFound:
            held = {"read": False, "edit": False, "delete": False}
        assert {r: told[r]["allowed"] for r in held} == held, title
    assert rights.explain(w.db, w.actor("root"), "deal", w.deals["large"])["rights"]["configure"]["allowed"]


# ---- rights changes reach other workers ------------------------------------------------------
def test_a_rights_change_reaches_another_worker(w, db_url):
    ann = w.member("ann", "Sales")
    other = Database(db_url)
    try:
        store2 = RecordStore(other)
        rights.set_object_rights(w.db, SYSTEM, "Sales", "deal", ["read"])
        assert len(store2.list(ann, "deal").data) == 3
        rights.set_access_mode(w.db, SYSTEM, "deal", "own_and_shared")
        assert store2.list(ann, "deal").data == []
    finally:
        other.dispose()


# ---- bad input and abuse: refused, clearly, and nothing changes -------------------------------
def test_rights_naming_deleted_groups_or_fields_are_refused(w):
    from cardbase.platform import users

    gone = users.create_group(w.db, SYSTEM, "Temp")
    rights.set_object_rights(w.db, SYSTEM, gone.id, "deal", ["read"])
    rights.set_field_right(w.db, SYSTEM, gone.id, "deal", "note", "hidden")
    users.delete_group(w.db, SYSTEM, gone.id, with_rights=True)
    with w.db.read() as conn:  # its rights went with it
        assert conn.execute(sa.select(sa.func.count()).select_from(ObjectRight)).scalar() == 0
    before = state(w.db)
    with pytest.raises(ValidationError, match="there is no group 4 "):
        rights.set_object_rights(w.db, SYSTEM, gone.id, "deal", ["read"])
    with pytest.raises(ValidationError, match="there is no group 'Temp'"):
        rights.save_rule_view(w.db, SYSTEM, "Temp", "deal", "x", SMALL)
    with pytest.raises(ValidationError, match="has no field 'budget'"):
        rights.set_field_right(w.db, SYSTEM, "Sales", "deal", "budget", "hidden")
    note_id = w.db.schema().object("deal").field("note").id
    w.svc.remove_field(SYSTEM, "deal", "note")
    with pytest.raises(ValidationError, match=f"has no field {note_id}"):
        rights.set_field_right(w.db, SYSTEM, "Sales", "deal", note_id, "hidden")
    with pytest.raises(ValidationError, match="system field"):
        rights.set_field_right(w.db, SYSTEM, "Sales", "deal", "code", "hidden")
    with pytest.raises(ValidationError, match="unknown right 'fly'"):
        rights.set_object_rights(w.db, SYSTEM, "Sales", "deal", ["read", "fly"])
    with pytest.raises(ValidationError, match="not a field level"):
        rights.set_field_right(w.db, SYSTEM, "Sales", "deal", "amount", "secret")
    with pytest.raises(ValidationError, match="there is no object 'dragon'"):
        rights.set_access_mode(w.db, SYSTEM, "dragon", "all")
    after = state(w.db)
    after.pop("deal"), before.pop("deal")  # the removed field's column
    after.pop("cb_config_log"), before.pop("cb_config_log")
    assert after == before


@pytest.mark.parametrize("bad, message", [
    ({"field": "amount", "op": "lt"}, "operator 'lt' needs a value"),
    ({"field": "budget", "op": "lt", "value": 1}, "object 'deal' has no field 'budget'"),
    ({"field": "amount", "op": "near", "value": 1}, "unknown operator 'near'"),
    ({"field": "amount", "op": "lt", "value": "lots"}, "'amount'"),
    ({"or": []}, "needs a non-empty list"),
    ({}, "must be a non-empty condition object"),
    ("amount < 5", "must be a non-empty condition object"),
])
def test_a_rule_view_with_an_invalid_filter_is_refused(w, bad, message):
    before = state(w.db)
    with pytest.raises(ValidationError) as err:
        rights.save_rule_view(w.db, SYSTEM, "Sales", "deal", "Bad", bad)
    assert message in err.value.message and "filter" in err.value.errors
    assert state(w.db) == before


def test_a_user_cannot_add_themselves_to_a_group_or_change_rights(w):
    from cardbase.platform import users

    ann = w.actor("ann")
    before = state(w.db)
    with pytest.raises(Forbidden, match="only administrators may add users to groups"):
        users.add_member(w.db, ann, "ann", "Sales")
    with pytest.raises(Forbidden):
        users.update_user(w.db, ann, "ann", is_admin=True)
    with pytest.raises(Forbidden):
        users.create_group(w.db, ann, "Mine")
    for call in (lambda: rights.set_object_rights(w.db, ann, "Sales", "deal", ["read"]),
                 lambda: rights.set_field_right(w.db, ann, "Sales", "deal", "amount", "editable"),
                 lambda: rights.save_rule_view(w.db, ann, "Sales", "deal", "All", SMALL),
                 lambda: rights.set_access_mode(w.db, ann, "deal", "all")):
        with pytest.raises(Forbidden, match="only administrators may change rights"):
            call()
    assert state(w.db) == before
    users.update_user(w.db, ann, "ann", display_name="Ann A.", language="de")  # own profile: fine


def test_sharing_above_ones_own_level_or_unseen_records_is_refused(w):
    ann = w.member("ann", "Junior sales")
    rights.save_rule_view(w.db, SYSTEM, "Junior sales", "deal", "Small", SMALL, level="change")
    before = state(w.db)
    with pytest.raises(Forbidden, match="you hold change on this 'Deal' record and cannot share it at full"):
        w.store.share(ann, "deal", w.deals["small"], user="ben", level="full")
    with pytest.raises(NotFound):  # a record one cannot see cannot be shared (nor its existence learnt)
        w.store.share(ann, "deal", w.deals["large"], user="ben", level="read")
    with pytest.raises(ValidationError, match="no active user 'nobody'"):
        w.store.share(ann, "deal", w.deals["small"], user="nobody", level="read")
    with pytest.raises(ValidationError, match="exactly one of user or group"):
        w.store.share(ann, "deal", w.deals["small"], user="ben", group="Sales", level="read")
    with pytest.raises(ValidationError, match="not a level"):
        w.store.share(ann, "deal", w.deals["small"], user="ben", level="owner")
    assert state(w.db) == before
    w.store.share(SYSTEM, "deal", w.deals["small"], user="ben", level="full")
    with pytest.raises(Forbidden, match="changing that needs full access"):
        w.store.share(ann, "deal", w.deals["small"], user="ben", level="read")
    with pytest.raises(Forbidden, match="may end a share"):
        w.store.unshare(ann, "deal", w.deals["small"], user="ben")


def test_giving_a_record_away_without_the_right_is_refused(w):
    ann = w.member("ann", "Sales")
    rights.set_object_rights(w.db, SYSTEM, "Sales", "deal", ["read", "edit"])
    before = state(w.db)
    with pytest.raises(Forbidden, match="needs full access"):
        w.store.set_owner(ann, "deal", w.deals["small"], w.ids["ann"])
    with pytest.raises(NotFound):
        w.store.set_owner(w.actor("cat"), "deal", w.deals["small"], w.ids["cat"])  # cannot even see it
    assert state(w.db) == before


def test_filtering_by_a_hidden_field_is_refused_like_an_unknown_field(w):
    """What the REST API does with ?filter=: it calls the store's list and count."""
    ann = w.member("ann", "Sales")
    rights.set_object_rights(w.db, SYSTEM, "Sales", "deal", ["read"])
    rights.set_field_right(w.db, SYSTEM, "Sales", "deal", "amount", "hidden")
    rights.set_field_right(w.db, SYSTEM, "Sales", "organisation", "vat", "hidden")
    before = state(w.db)
    probes = [{"field": "amount", "op": "gt", "value": 100000},
              {"not": {"field": "amount", "op": "is_empty"}},
              {"or": [{"field": "title", "op": "eq", "value": "x"}, {"field": "amount", "op": "lt", "value": 1}]},
              {"field": "organisation.vat", "op": "eq", "value": "DE1"}]
    calls = (lambda tree: w.store.list(ann, "deal", ListQuery(filter=tree)),
             lambda tree: w.store.count(ann, "deal", filter=tree),
             lambda tree: w.store.aggregate(ann, "deal", AggregateQuery(filter=tree), purpose="read"))
    for probe in probes:
        for call in calls:
            with pytest.raises(ValidationError) as err:
                call(probe)
            assert "has no field" in err.value.message
    assert state(w.db) == before


def test_inactive_or_unknown_groups_in_an_actor_grant_nothing(w):
    from cardbase.schema_engine.actor import Actor

    rights.set_object_rights(w.db, SYSTEM, "Sales", "deal", ["read"])
    forged = Actor(user_id=w.ids["cat"], username="cat", group_ids=frozenset({9999}))
    with pytest.raises(Forbidden):
        w.store.list(forged, "deal")
    with w.db.read() as conn:
        assert conn.execute(sa.select(Group.id).where(Group.id == 9999)).first() is None
        assert conn.execute(sa.select(User.id).where(User.id == w.ids["cat"])).first() is not None
