"""Hidden data stays hidden through computed fields, messages and cascades (docs/rights.md):

* a formula, lookup or rollup computed from a hidden field, or over an object the user
  may not read, is itself hidden -- absent from every read and refused in filters, sorts,
  groups and metrics like an unknown field, transitively through the computed graph;
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
