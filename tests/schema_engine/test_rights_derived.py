"""Hidden data stays hidden through computed fields, messages and cascades (docs/rights.md):

* a formula, lookup or rollup computed from a hidden field, or over an object the user
  may not read, is itself hidden -- absent from every read and refused in filters, sorts,
  groups and metrics like an unknown field, transitively through the computed graph;
* so is a min, max or concat rollup over children of which the user may not see every
  record (a row filter applies), while sums, counts and averages stay visible;
* unique clashes and restrict-deletes name only records the user may read;
* a cascading delete is refused when it would take along children the user may not delete.
"""
from __future__ import annotations

from decimal import Decimal

import pytest

from cardbase.schema_engine import rights
from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.errors import Forbidden, InUse, ValidationError
from cardbase.schema_engine.query.model import AggregateQuery, ListQuery

from computed_fixture import add_revenue, order_book
from crm_fixture import crm
from rights_fixture import actor, add_group, add_user, join, state


@pytest.fixture
def book(db):
    svc, store = order_book(db)
    add_revenue(svc)
    acme = store.create(SYSTEM, "organisation", {"name": "ACME", "city": "Berlin"})["id"]
    globex = store.create(SYSTEM, "organisation", {"name": "Globex", "city": "Paris"})["id"]
    store.bulk_create(SYSTEM, "contact", [{"name": "Ann", "organisation": acme},
                                          {"name": "Bob", "organisation": globex}])
    order = store.create(SYSTEM, "order", {"title": "Big", "customer": acme})["id"]
    store.bulk_create(SYSTEM, "order_line", [{"order": order, "product": "Tea", "price": "50", "quantity": 2},
                                             {"order": order, "product": "Cup", "price": "10", "quantity": 1}])
    user = add_user(db, "ann")
    group = add_group(db, "Sales")
    join(db, user, group)
    for obj in ("organisation", "contact", "order", "order_line"):
        rights.set_object_rights(db, SYSTEM, "Sales", obj, ["read", "edit", "export"])
    return db, store, actor(db, user), order


def assert_absent_everywhere(store, who, obj: str, name: str, rid: int) -> None:
    """The field is in no read, and every use of it is refused like an unknown field."""
    assert name not in store.get(who, obj, rid)
    assert all(name not in r for r in store.list(who, obj).data)
    assert all(name not in r for batch in store.export(who, obj) for r in batch)
    assert all(c["field"] != name for e in store.history(who, obj, rid) for c in e["changes"])
    unknown = f"object '{obj}' has no field '{name}'"
    for call in (lambda: store.list(who, obj, ListQuery(filter={"field": name, "op": "is_not_empty"})),
                 lambda: store.count(who, obj, filter={"field": name, "op": "is_empty"}),
                 lambda: store.list(who, obj, ListQuery(sort=f"-{name}")),
                 lambda: store.list(who, obj, ListQuery(fields=[name])),
                 lambda: list(store.export(who, obj, ListQuery(sort=name))),
                 lambda: store.aggregate(who, obj, AggregateQuery(group_by=[name]), purpose="read")):
        with pytest.raises(ValidationError) as err:
            call()
        assert unknown in err.value.message


def test_a_formula_of_a_hidden_field_is_hidden_and_so_is_everything_computed_from_it(book):
    db, store, ann, order = book
    line = store.list(SYSTEM, "order_line", ListQuery(sort="id")).data[0]["id"]
    acme = store.get(SYSTEM, "order", order)["customer"].id
    assert store.get(ann, "order_line", line)["cost"] == Decimal("100.00")  # visible before
    rights.set_field_right(db, SYSTEM, "Sales", "order_line", "price", "hidden")
    # cost = price * quantity; order.total = sum(cost); organisation.revenue = sum(total)
    assert_absent_everywhere(store, ann, "order_line", "cost", line)
    assert_absent_everywhere(store, ann, "order", "total", order)
    assert_absent_everywhere(store, ann, "organisation", "revenue", acme)
    with pytest.raises(ValidationError, match="has no field 'total'"):  # across a link too
        store.list(ann, "order_line", ListQuery(filter={"field": "order.total", "op": "gt", "value": 1}))
    with pytest.raises(ValidationError, match="has no field 'cost'"):
        store.aggregate(ann, "order_line", AggregateQuery(metrics=[{"op": "sum", "field": "cost"}]), purpose="read")
    assert store.get(ann, "order_line", line)["quantity"] == 2  # the rest stays readable
    assert store.get(SYSTEM, "order", order)["total"] == Decimal("110.00")  # hidden, not gone
    why = rights.explain(db, ann, "order", order)["fields"]["total"]
    assert why == {"level": "hidden", "reasons": ["computed from 'Order line.Cost', which is hidden for the user"]}


def test_a_lookup_of_a_hidden_field_is_hidden_and_finds_nothing_in_search(book):
    db, store, ann, _order = book
    bob = store.list(SYSTEM, "contact", ListQuery(search="paris")).data[0]["id"]
    assert [r["name"] for r in store.list(ann, "contact", ListQuery(search="paris")).data] == ["Bob"]
    rights.set_field_right(db, SYSTEM, "Sales", "organisation", "city", "hidden")
    assert_absent_everywhere(store, ann, "contact", "city", bob)
    assert store.list(ann, "contact", ListQuery(search="paris")).data == []
    assert store.count(ann, "contact", search="paris") == (0, False)
    assert [r["name"] for r in store.list(ann, "contact", ListQuery(search="bob")).data] == ["Bob"]


def test_lookups_and_rollups_over_an_object_the_user_may_not_read_are_hidden(book):
    db, store, ann, order = book
    bob = store.list(SYSTEM, "contact", ListQuery(filter={"field": "name", "op": "eq", "value": "Bob"})).data[0]
    rights.set_object_rights(db, SYSTEM, "Sales", "organisation", [])
    assert_absent_everywhere(store, ann, "contact", "city", bob["id"])
    rights.set_object_rights(db, SYSTEM, "Sales", "order_line", [])
    assert_absent_everywhere(store, ann, "order", "total", order)
    why = rights.explain(db, ann, "order", order)["fields"]["total"]
    assert why["reasons"] == ["computed from 'Order lines', which the user may not read"]
    # a share of one organisation makes organisations readable, and the lookup with it
    store.share(SYSTEM, "organisation", bob["organisation"].id, user=ann.user_id)
    assert store.get(ann, "contact", bob["id"])["city"] == "Paris"


def test_rollups_count_every_child_when_the_user_may_read_the_field(book):
    """Documented choice: like Salesforce roll-up summaries, a total is over all lines,
    also those the user cannot see; it is shown when the user may read the field."""
    db, store, ann, order = book
    rights.set_access_mode(db, SYSTEM, "order_line", "own_and_shared")
    assert store.list(ann, "order_line").data == []  # sees no line ...
    assert store.get(ann, "order", order)["total"] == Decimal("110.00")  # ... but the total


# ---- rollups revealing values of children the reader cannot all see ---------------------------
ROLLUPS = {"titles": ("Deal titles", "concat", "title"), "smallest": ("Smallest deal", "min", "amount"),
           "largest": ("Largest deal", "max", "amount"), "volume": ("Deal volume", "sum", "amount"),
           "deals": ("Deal count", "count", None), "average": ("Average deal", "avg", "amount")}
REVEALING = ("titles", "smallest", "largest", "headline")  # headline = UPPER([Deal titles])
SUMMARIES = {"volume": Decimal("1500.00"), "deals": 2, "average": Decimal("750.0000")}


@pytest.fixture
def deal_book(db):
    """ACME with a small deal the junior's rule view shows and a big 'Zeppelin' one it does
    not; Organisation rollups of every aggregate over them."""
    svc, store = crm(db)
    for name, (label, aggregate, field) in ROLLUPS.items():
        svc.add_field(SYSTEM, "organisation", {"name": name, "label": label, "type": "rollup", "options": {
            "child": "deal", "aggregate": aggregate, **({"field": field} if field else {})}})
    svc.add_field(SYSTEM, "organisation", {"name": "headline", "label": "Headline", "type": "formula",
                                           "options": {"formula": "UPPER([Deal titles])"}})
    acme = store.create(SYSTEM, "organisation", {"name": "ACME"})["id"]
    store.bulk_create(SYSTEM, "deal", [{"title": "Small", "organisation": acme, "amount": "100"},
                                       {"title": "Zeppelin", "organisation": acme, "amount": "1400"}])
    junior, senior = add_user(db, "jun"), add_user(db, "sen")
    join(db, junior, add_group(db, "Juniors"))
    join(db, senior, add_group(db, "Seniors"))
    for group in ("Juniors", "Seniors"):
        rights.set_object_rights(db, SYSTEM, group, "organisation", ["read", "export", "report"])
    rights.set_object_rights(db, SYSTEM, "Seniors", "deal", ["read"])
    rights.save_rule_view(db, SYSTEM, "Juniors", "deal", "Small deals",
                          {"field": "amount", "op": "lt", "value": 1000}, level="read")
    return db, store, actor(db, junior), actor(db, senior), acme


def test_min_max_and_concat_rollups_over_deals_outside_the_rule_view_are_hidden(deal_book):
    db, store, junior, senior, acme = deal_book
    assert [d["title"] for d in store.list(junior, "deal").data] == ["Small"]
    for name in REVEALING:
        assert_absent_everywhere(store, junior, "organisation", name, acme)
    # search: the organisation is not found by a title the junior may not see
    assert store.list(junior, "organisation", ListQuery(search="zeppelin")).data == []
    assert store.count(junior, "organisation", search="zeppelin") == (0, False)
    for name in ("smallest", "largest"):  # metrics over it are refused like an unknown field
        with pytest.raises(ValidationError, match=f"has no field '{name}'"):
            store.aggregate(junior, "organisation", AggregateQuery(metrics=[{"op": "max", "field": name}]),
                            purpose="read")
    # sums, counts and averages are figures over the whole list: visible as before
    card = store.get(junior, "organisation", acme)
    assert {k: card[k] for k in SUMMARIES} == SUMMARIES
    assert store.list(junior, "organisation", ListQuery(filter={"field": "volume", "op": "gt", "value": 1000})
                      ).data[0]["id"] == acme
    # a user with object-wide read on deals sees every figure, and so does an admin
    admin = actor(db, add_user(db, "boss", admin=True))
    for who in (senior, admin, SYSTEM):
        card = store.get(who, "organisation", acme)
        assert (card["titles"], card["smallest"], card["largest"], card["headline"]) == (
            "Small, Zeppelin", Decimal("100.00"), Decimal("1400.00"), "SMALL, ZEPPELIN")
        assert [r["id"] for r in store.list(who, "organisation", ListQuery(search="zeppelin")).data] == [acme]
        assert store.list(who, "organisation", ListQuery(filter={"field": "largest", "op": "gt", "value": 1000},
                                                         sort="-titles")).data[0]["id"] == acme
    why = rights.explain(db, junior, "organisation", acme)["fields"]
    assert why["titles"] == {"level": "hidden", "reasons": [
        "a concat rollup over 'Deals', of which the user may not see every record"]}
    assert why["largest"]["reasons"] == ["a max rollup over 'Deals', of which the user may not see every record"]
    assert why["headline"]["reasons"] == ["computed from 'Organisation.Deal titles', which is hidden for the user"]
    assert why["volume"]["level"] != "hidden"
    assert rights.explain(db, senior, "organisation", acme)["fields"]["titles"]["level"] != "hidden"


@pytest.mark.parametrize("setup", ["own_and_shared", "shares_only"])
def test_revealing_rollups_are_hidden_whenever_a_row_filter_applies_to_the_children(deal_book, setup):
    db, store, junior, senior, acme = deal_book
    zeppelin = store.list(SYSTEM, "deal", ListQuery(search="zeppelin")).data[0]["id"]
    if setup == "own_and_shared":  # the seniors' read becomes own records and shares
        rights.set_access_mode(db, SYSTEM, "deal", "own_and_shared")
    else:  # no group right on deals at all; one deal shared with the senior
        rights.set_object_rights(db, SYSTEM, "Seniors", "deal", [])
        store.share(SYSTEM, "deal", zeppelin, user=senior.user_id)
        assert [d["title"] for d in store.list(senior, "deal").data] == ["Zeppelin"]
    for name in REVEALING:
        assert_absent_everywhere(store, senior, "organisation", name, acme)
    card = store.get(senior, "organisation", acme)
    assert {k: card[k] for k in SUMMARIES} == SUMMARIES
    rights.set_access_mode(db, SYSTEM, "deal", "all")
    rights.set_object_rights(db, SYSTEM, "Seniors", "deal", ["read"])  # object-wide read again
    assert store.get(senior, "organisation", acme)["titles"] == "Small, Zeppelin"


def test_every_rollup_aggregate_is_classified_as_a_summary_or_revealing():
    """A new aggregate is hidden from partial readers until it is declared a summary."""
    from cardbase.schema_engine.field_types.rollup import AGGREGATES
    from cardbase.schema_engine.rights.derived import SUMMARY_AGGREGATES
    assert SUMMARY_AGGREGATES == {"sum", "count", "avg"} and SUMMARY_AGGREGATES <= set(AGGREGATES)
    assert set(AGGREGATES) - SUMMARY_AGGREGATES == {"min", "max", "concat"}


# ---- messages name only records the user may read ----------------------------------------------
@pytest.fixture
def crm_world(db):
    svc, store = crm(db)
    user = add_user(db, "ann")
    join(db, user, add_group(db, "Sales"))
    acme = store.create(SYSTEM, "organisation", {"name": "ACME", "vat": "DE1"})
    return db, store, actor(db, user), acme


def test_a_unique_clash_names_the_record_only_when_the_writer_may_read_it(crm_world):
    db, store, ann, acme = crm_world
    rights.set_object_rights(db, SYSTEM, "Sales", "organisation", ["create"])
    rights.set_access_mode(db, SYSTEM, "organisation", "own_and_shared")
    before = state(db)
    for call in (lambda: store.create(ann, "organisation", {"name": "X", "vat": "DE1"}),
                 lambda: store.bulk_create(ann, "organisation", [{"name": "X", "vat": "DE1"}]),
                 lambda: store.bulk_write(ann, "organisation", [{"name": "X", "vat": "DE1"}])):
        with pytest.raises(ValidationError) as err:
            call()
        assert "must be unique: 'DE1' is already used by another record" in err.value.message
        assert acme["code"] not in err.value.message
    assert state(db) == before
    rights.set_object_rights(db, SYSTEM, "Sales", "organisation", ["create", "read"])
    rights.set_access_mode(db, SYSTEM, "organisation", "all")
    with pytest.raises(ValidationError) as err:
        store.create(ann, "organisation", {"name": "X", "vat": "DE1"})
    assert err.value.errors == {"vat": [f"must be unique: 'DE1' is already used by {acme['code']}"]}


def test_a_restricted_delete_counts_children_the_user_cannot_see(crm_world):
    db, store, ann, acme = crm_world
    mine = store.create(SYSTEM, "deal", {"title": "mine", "organisation": acme["id"]})
    other = store.create(SYSTEM, "deal", {"title": "theirs", "organisation": acme["id"]})
    rights.set_object_rights(db, SYSTEM, "Sales", "organisation", ["read", "delete"])
    rights.set_object_rights(db, SYSTEM, "Sales", "deal", ["read"])
    rights.save_rule_view(db, SYSTEM, "Sales", "deal", "Mine", {"field": "title", "op": "eq", "value": "mine"},
                          level="read")
    rights.set_access_mode(db, SYSTEM, "deal", "own_and_shared")
    with pytest.raises(InUse) as err:
        store.delete(ann, "organisation", acme["id"])
    assert err.value.usages == [f"1 'Deal' record(s) via 'Organisation': {mine['code']}; "
                                "1 linked 'Deal' record(s) via 'Organisation' you cannot see"]
    assert other["code"] not in str(err.value.usages)
    with pytest.raises(InUse) as err:  # the system sees both codes
        store.delete(SYSTEM, "organisation", acme["id"])
    assert err.value.usages == [f"2 'Deal' record(s) via 'Organisation': {mine['code']}, {other['code']}"]


def test_a_cascade_to_children_the_user_may_not_delete_is_refused(crm_world):
    db, store, ann, acme = crm_world
    store.bulk_create(SYSTEM, "contact", [{"name": "Ann", "organisation": acme["id"]},
                                          {"name": "Bob", "organisation": acme["id"]}])
    rights.set_object_rights(db, SYSTEM, "Sales", "organisation", ["read", "delete"])
    rights.set_object_rights(db, SYSTEM, "Sales", "contact", ["read"])
    data = lambda: {k: v for k, v in state(db).items() if k in ("organisation", "contact", "history", "outbox")}  # noqa: E731
    before = data()
    with pytest.raises(Forbidden) as err:  # may see them, may not delete them
        store.delete(ann, "organisation", acme["id"])
    assert "2 'Contact person' record(s) via 'Organisation' would be deleted with it" in err.value.message
    assert "you may not delete 2 of them" in err.value.message
    rights.set_object_rights(db, SYSTEM, "Sales", "contact", [])
    with pytest.raises(Forbidden):  # cannot even see them
        store.delete(ann, "organisation", acme["id"])
    assert data() == before
    rights.set_object_rights(db, SYSTEM, "Sales", "contact", ["read", "delete"])
    store.delete(ann, "organisation", acme["id"])  # with delete on the children it goes through
    assert store.count(SYSTEM, "contact") == (0, False)
    store.restore(ann, "organisation", acme["id"])
    assert store.count(SYSTEM, "contact") == (2, False)
