"""Property: for random groups, memberships, object rights, access modes, record scopes per
group and object, parent-following (deals taking their access from their organisation),
field rights, rule views, shares and records, every read channel -- list, get, search, count, grouped
aggregation, link display, filters through links and the single-record rights check --
returns exactly the records and fields an independent model of the rules allows, on both
engines. The single-record check and the list filter can never disagree."""
from __future__ import annotations

from dataclasses import dataclass, field as dc_field

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cardbase.schema_engine import naming
from cardbase.schema_engine.actor import SYSTEM, Actor
from cardbase.schema_engine.errors import Forbidden, NotFound, ValidationError
from cardbase.schema_engine.meta_models import UserGroup
from cardbase.schema_engine.query.model import AggregateQuery, ListQuery
from cardbase.schema_engine.rights.models import (FieldRight, ObjectAccess, ObjectRight, ParentAccess, RecordScope,
                                                  RuleView, Share, bump_rights_version)
from cardbase.schema_engine.rights.stored_filter import to_stored
from cardbase.schema_engine.schema_service import SchemaService
from cardbase.schema_engine.store import RecordStore

from rights_fixture import add_group, add_user

USERS, GROUPS, ORGS = 3, 3, 3
WORDS = ["apple", "mango", "kiwi", "plum"]  # no word is part of another, a title, a code or a stage
STAGES = ["lead", "won", "lost"]
CITIES = ["Berlin", "Paris"]
RANK = {"read": 1, "change": 2, "full": 3}
NEED = {"read": 1, "edit": 2, "delete": 3}
RESTRICTABLE = [("deal", "amount"), ("deal", "note"), ("deal", "stage"), ("organisation", "city")]


# ---- the scenario ------------------------------------------------------------------------------
@dataclass
class Scenario:
    members: list[frozenset[int]]  # per user: group indexes
    rights: dict[tuple[int, str], frozenset[str]]  # (group, object) -> rights
    modes: dict[str, str]
    field_levels: dict[tuple[int, str, str], str]  # (group, object, field) -> level
    rule_views: list[tuple[int, str, tuple, str]]  # (group, object, template, level)
    orgs: list[tuple[int | None, str]]  # (owner, city)
    deals: list[tuple[int | None, int | None, str, int | None, str]]  # owner, amount, stage, org, note
    shares: list[tuple[str, int, str, int, str]]  # object, record index, "user"/"group", who, level
    word: str
    scopes: dict[tuple[int, str], str] = dc_field(default_factory=dict)  # (group, object) -> record scope
    parent: bool = False  # deals follow their organisation


owner = st.one_of(st.none(), st.integers(0, USERS - 1))
templates_deal = st.one_of(
    st.tuples(st.just("amount_lt"), st.sampled_from([1000, 50000])),
    st.tuples(st.just("stage_eq"), st.sampled_from(STAGES)),
    st.tuples(st.just("org_city_eq"), st.sampled_from(CITIES)),
    st.tuples(st.just("note_contains"), st.sampled_from(WORDS)))
templates_org = st.tuples(st.just("city_eq"), st.sampled_from(CITIES))


@st.composite
def scenarios(draw) -> Scenario:
    members = [frozenset(draw(st.sets(st.integers(0, GROUPS - 1)))) for _ in range(USERS)]
    rights = {(g, o): frozenset(draw(st.sets(st.sampled_from(["read", "create", "edit", "delete"]))))
              for g in range(GROUPS) for o in ("deal", "organisation")}
    modes = {o: draw(st.sampled_from(["all", "own_and_shared"])) for o in ("deal", "organisation")}
    field_levels = {}
    for g in range(GROUPS):
        for o, f in RESTRICTABLE:
            level = draw(st.sampled_from([None, None, "hidden", "read_only", "editable"]))
            if level:
                field_levels[(g, o, f)] = level
    rule_views = []
    for g in range(GROUPS):
        for _ in range(draw(st.integers(0, 2))):
            obj = draw(st.sampled_from(["deal", "deal", "organisation"]))
            template = draw(templates_deal if obj == "deal" else templates_org)
            rule_views.append((g, obj, template, draw(st.sampled_from(list(RANK)))))
    orgs = [(draw(owner), draw(st.sampled_from(CITIES))) for _ in range(ORGS)]
    deals = draw(st.lists(st.tuples(owner, st.one_of(st.none(), st.integers(0, 100_000)), st.sampled_from(STAGES),
                                    st.one_of(st.none(), st.integers(0, ORGS - 1)),
                                    st.lists(st.sampled_from(WORDS), min_size=0, max_size=2).map(" ".join)),
                          max_size=10))
    shares = []
    if deals:
        for _ in range(draw(st.integers(0, 6))):
            obj = draw(st.sampled_from(["deal", "deal", "organisation"]))
            index = draw(st.integers(0, (len(deals) if obj == "deal" else ORGS) - 1))
            kind = draw(st.sampled_from(["user", "group"]))
            who = draw(st.integers(0, (USERS if kind == "user" else GROUPS) - 1))
            if not any(s[:4] == (obj, index, kind, who) for s in shares):  # one share per grantee
                shares.append((obj, index, kind, who, draw(st.sampled_from(list(RANK)))))
    scopes = {}
    for g in range(GROUPS):
        for o in ("deal", "organisation"):
            scope = draw(st.sampled_from([None, None, "all", "own_and_shared", "rule_views", "none"]))
            if scope:
                scopes[(g, o)] = scope
    return Scenario(members, rights, modes, field_levels, rule_views, orgs, deals, shares,
                    draw(st.sampled_from(WORDS)), scopes, draw(st.booleans()))


# ---- the independent model of the rules (docs/rights.md) --------------------------------------
class Oracle:
    def __init__(self, sc: Scenario, records: dict[str, list[dict]]):
        self.sc, self.records = sc, records

    def held_by(self, g: int, obj: str) -> set[str]:
        out = set(self.sc.rights[(g, obj)])
        if out & {"edit", "delete"}:
            out.add("read")
        return out

    def held(self, u: int, obj: str) -> set[str]:
        out: set[str] = set()
        for g in self.sc.members[u]:
            out |= self.held_by(g, obj)
        return out

    def scope(self, g: int, obj: str) -> str:
        return self.sc.scopes.get((g, obj)) or self.sc.modes[obj]

    def follows(self, obj: str) -> bool:
        return obj == "deal" and self.sc.parent

    @staticmethod
    def has(held: set[str], right: str) -> bool:
        return bool(held & {"read", "create", "edit", "delete"}) if right == "read" else right in held

    def sees_all(self, u: int, obj: str, right: str) -> bool:
        return any(right in self.held_by(g, obj) and self.scope(g, obj) == "all" for g in self.sc.members[u])

    def matches(self, obj: str, template: tuple, rec: dict) -> bool:
        kind, value = template
        if kind == "amount_lt":
            return rec["amount"] is not None and rec["amount"] < value
        if kind == "stage_eq":
            return rec["stage"] == value
        if kind == "note_contains":
            return value in rec["note"]
        if kind == "org_city_eq":
            return rec["org"] is not None and self.records["organisation"][rec["org"]]["city"] == value
        return rec["city"] == value  # city_eq on organisations

    def views(self, u: int, obj: str, group: int | None = None):
        return [(t, lv) for g, o, t, lv in self.sc.rule_views if o == obj and g in self.sc.members[u]
                and self.scope(g, obj) != "none" and (group is None or g == group)]

    def share_levels(self, u: int, obj: str, index: int | None = None) -> list[int]:
        return [RANK[lv] for o, i, kind, who, lv in self.sc.shares
                if o == obj and (index is None or i == index) and
                ((kind == "user" and who == u) or (kind == "group" and who in self.sc.members[u]))]

    def can_read(self, u: int, obj: str) -> bool:
        if self.follows(obj):
            return self.has(self.held(u, obj), "read")
        return bool(self.held(u, obj) & {"read", "create", "edit", "delete"}) or bool(self.views(u, obj)) \
            or bool(self.share_levels(u, obj))

    def allows(self, u: int, obj: str, index: int, right: str) -> bool:
        need, rec = NEED[right], self.records[obj][index]
        if self.follows(obj):  # exactly the organisation's access, with the right on deals
            if not self.has(self.held(u, obj), right):
                return False
            if rec["org"] is None:
                return self.sees_all(u, "organisation", right)
            return self.allows(u, "organisation", rec["org"], right)
        for g in self.sc.members[u]:
            held, scope = self.held_by(g, obj), self.scope(g, obj)
            if not self.has(held, right):
                continue
            if scope == "all" and right in held:
                return True
            if scope in ("all", "own_and_shared") and rec["owner"] == u:
                return True
            if scope == "rule_views" and any(self.matches(obj, t, rec) for t, _lv in self.views(u, obj, g)):
                return True
        if any(r >= need for r in self.share_levels(u, obj, index)):
            return True
        return any(RANK[lv] >= need and self.matches(obj, t, rec) for t, lv in self.views(u, obj))

    def level(self, u: int, obj: str, field: str) -> str:
        order = ["hidden", "read_only", "editable"]
        set_by = [self.sc.field_levels[(g, obj, field)] for g in self.sc.members[u]
                  if (g, obj, field) in self.sc.field_levels]
        return max(set_by, key=order.index) if set_by else "editable"


# ---- the world (built once per engine) and one scenario applied to it ---------------------------
class World:
    def __init__(self, db):
        self.db = db
        svc = SchemaService(db)
        svc.create_object(SYSTEM, {"name": "organisation", "label": "Organisation", "label_plural": "Organisations",
                                   "fields": [{"name": "name", "label": "Name", "type": "string"},
                                              {"name": "city", "label": "City", "type": "string"}]})
        svc.create_object(SYSTEM, {"name": "deal", "label": "Deal", "label_plural": "Deals", "fields": [
            {"name": "title", "label": "Title", "type": "string"},
            {"name": "organisation", "label": "Organisation", "type": "link",
             "options": {"target": "organisation", "on_delete": "restrict"}},
            {"name": "amount", "label": "Amount", "type": "integer"},
            {"name": "stage", "label": "Stage", "type": "choice",
             "options": {"choices": [{"value": s} for s in STAGES]}},
            {"name": "note", "label": "Note", "type": "text"}]})
        self.store = RecordStore(db)
        self.user_ids = [add_user(db, f"user{i}") for i in range(USERS)]
        self.group_ids = [add_group(db, f"group{i}") for i in range(GROUPS)]
        self.admin = Actor(add_user(db, "root", admin=True), "root", is_admin=True)

    def apply(self, sc: Scenario) -> dict[str, list[dict]]:
        schema = self.db.schema()
        with self.db.write() as conn:
            for model in (Share, RuleView, FieldRight, ObjectRight, ObjectAccess, RecordScope, ParentAccess, UserGroup):
                conn.execute(sa.delete(model))
            for name in ("deal", "organisation"):
                obj = schema.object(name)
                conn.execute(sa.text(f"DELETE FROM {naming.fts_table_name(obj.id)}"))
                conn.execute(sa.delete(schema.table(obj)))
        org_ids = self.store.bulk_create(SYSTEM, "organisation", [
            {"name": f"org{i}", "city": city} for i, (_o, city) in enumerate(sc.orgs)])
        deal_ids = self.store.bulk_create(SYSTEM, "deal", [
            {"title": f"t{i}", "amount": amount, "stage": stage,
             "organisation": org_ids[org] if org is not None else None, "note": note}
            for i, (_o, amount, stage, org, note) in enumerate(sc.deals)]) if sc.deals else []
        ids = {"organisation": org_ids, "deal": deal_ids}
        records = {
            "organisation": [{"id": rid, "owner": o, "city": city} for rid, (o, city) in zip(org_ids, sc.orgs)],
            "deal": [{"id": rid, "owner": o, "amount": a, "stage": s, "org": org, "note": n}
                     for rid, (o, a, s, org, n) in zip(deal_ids, sc.deals)]}
        with self.db.write() as conn:
            for name, recs in records.items():
                table = schema.table(name)
                for rec in recs:
                    if rec["owner"] is not None:
                        conn.execute(sa.update(table).where(table.c.id == rec["id"])
                                     .values(owner_id=self.user_ids[rec["owner"]]))
            for u, groups in enumerate(sc.members):
                for g in groups:
                    conn.execute(sa.insert(UserGroup).values(user_id=self.user_ids[u], group_id=self.group_ids[g]))
            for (g, o), rights in sc.rights.items():
                if rights:
                    conn.execute(sa.insert(ObjectRight).values(
                        group_id=self.group_ids[g], object_id=schema.object(o).id,
                        **{f"may_{r}": r in rights for r in ("read", "create", "edit", "delete")}))
            for o, mode in sc.modes.items():
                conn.execute(sa.insert(ObjectAccess).values(object_id=schema.object(o).id, mode=mode))
            for (g, o), scope in sc.scopes.items():
                conn.execute(sa.insert(RecordScope).values(group_id=self.group_ids[g], object_id=schema.object(o).id,
                                                           scope=scope))
            if sc.parent:
                deal = schema.object("deal")
                conn.execute(sa.insert(ParentAccess).values(object_id=deal.id, field_id=deal.field("organisation").id))
            for (g, o, f), level in sc.field_levels.items():
                conn.execute(sa.insert(FieldRight).values(group_id=self.group_ids[g],
                                                          field_id=schema.object(o).field(f).id, level=level))
            for n, (g, o, (kind, value), level) in enumerate(sc.rule_views):
                tree = {"amount_lt": {"field": "amount", "op": "lt", "value": value},
                        "stage_eq": {"field": "stage", "op": "eq", "value": value},
                        "org_city_eq": {"field": "organisation.city", "op": "eq", "value": value},
                        "note_contains": {"field": "note", "op": "contains", "value": value},
                        "city_eq": {"field": "city", "op": "eq", "value": value}}[kind]
                conn.execute(sa.insert(RuleView).values(
                    group_id=self.group_ids[g], object_id=schema.object(o).id, name=f"rv{n}",
                    filter=to_stored(schema, schema.object(o), tree), level=level))
            for o, index, kind, who, level in sc.shares:
                conn.execute(sa.insert(Share).values(
                    object_id=schema.object(o).id, record_id=ids[o][index], level=level,
                    user_id=self.user_ids[who] if kind == "user" else None,
                    group_id=self.group_ids[who] if kind == "group" else None))
            bump_rights_version(conn)
        return records

    def actor(self, sc: Scenario, u: int) -> Actor:
        return Actor(self.user_ids[u], f"user{u}", frozenset(self.group_ids[g] for g in sc.members[u]))


@pytest.fixture
def world(db):
    return World(db)


def _visible_fields(oracle: Oracle, u: int) -> set[str]:
    system = {"id", "code", "version", "owner", "created_at", "created_by", "modified_at", "modified_by"}
    user = {f for f in ("title", "organisation", "amount", "stage", "note")
            if oracle.level(u, "deal", f) != "hidden"}
    return system | user


def _search_hits(oracle: Oracle, u: int, rec: dict, word: str) -> bool:
    # Whole vocabulary words: FTS word-prefix and the masked substring search agree on them.
    return oracle.level(u, "deal", "note") != "hidden" and word in rec["note"].split()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(sc=scenarios())
def test_every_read_channel_returns_exactly_what_the_rules_allow(world, sc):
    records = world.apply(sc)
    oracle = Oracle(sc, records)
    store = world.store
    deals = records["deal"]
    assert len(store.list(world.admin, "deal", ListQuery(limit=500)).data) == len(deals)
    for u in range(USERS):
        who = world.actor(sc, u)
        if not oracle.can_read(u, "deal"):
            for call in (lambda actor: store.list(actor, "deal"), lambda actor: store.count(actor, "deal"),
                         lambda actor: store.aggregate(actor, "deal", AggregateQuery(), purpose="read")):
                with pytest.raises(Forbidden):
                    call(who)
            continue
        expected = {r["id"] for i, r in enumerate(deals) if oracle.allows(u, "deal", i, "read")}
        page = store.list(who, "deal", ListQuery(limit=500))
        assert {r["id"] for r in page.data} == expected, (u, sc)
        assert store.count(who, "deal") == (len(expected), False)
        fields = _visible_fields(oracle, u)
        for record in page.data:
            assert set(record) == fields
        # single records agree with the list, and the record rights with the model
        for i, rec in enumerate(deals):
            if rec["id"] in expected:
                got = store.get(who, "deal", rec["id"])
                assert set(got) == fields
                assert store.record_rights(who, "deal", rec["id"]) == {
                    r: oracle.allows(u, "deal", i, r) for r in ("read", "edit", "delete")}
                if rec["org"] is not None:
                    org_visible = oracle.allows(u, "organisation", rec["org"], "read")
                    link = got["organisation"]
                    assert link.restricted is (not org_visible)
                    assert link.display == (f"org{rec['org']}" if org_visible else None)
            else:
                with pytest.raises(NotFound):
                    store.get(who, "deal", rec["id"])
        # search never matches what the reader cannot see
        hits = {r["id"] for r in deals if r["id"] in expected and _search_hits(oracle, u, r, sc.word)}
        assert {r["id"] for r in store.list(who, "deal", ListQuery(search=sc.word, limit=500)).data} == hits
        assert store.count(who, "deal", search=sc.word) == (len(hits), False)
        # grouped aggregation counts the same records, and needs the grouped field visible
        if oracle.level(u, "deal", "stage") == "hidden":
            with pytest.raises(ValidationError):
                store.aggregate(who, "deal", AggregateQuery(group_by=["stage"]), purpose="read")
        else:
            groups = store.aggregate(who, "deal", AggregateQuery(group_by=["stage"]), purpose="read")
            want: dict = {}
            for r in deals:
                if r["id"] in expected:
                    want[r["stage"]] = want.get(r["stage"], 0) + 1
            assert {g["stage"]: g["count"] for g in groups} == want
        if oracle.level(u, "deal", "amount") != "hidden":
            total = store.aggregate(who, "deal", AggregateQuery(metrics=[{"op": "sum", "field": "amount"}]), purpose="read")
            want_sum = sum(r["amount"] or 0 for r in deals if r["id"] in expected)
            assert (total[0]["sum_amount"] or 0) == want_sum
        # a filter through the link sees only organisations the reader may see
        through = {"field": "organisation.city", "op": "eq", "value": "Berlin"}
        if oracle.level(u, "organisation", "city") == "hidden":
            with pytest.raises(ValidationError):
                store.list(who, "deal", ListQuery(filter=through))
        else:
            want_ids = {r["id"] for r in deals if r["id"] in expected and r["org"] is not None
                        and oracle.allows(u, "organisation", r["org"], "read")
                        and records["organisation"][r["org"]]["city"] == "Berlin"}
            got_ids = {r["id"] for r in store.list(who, "deal", ListQuery(filter=through, limit=500)).data}
            assert got_ids == want_ids
