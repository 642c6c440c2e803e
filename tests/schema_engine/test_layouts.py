"""Cards (data-entry forms), the object's table and saved views: generation, validation,
rename safety, rights, the configuration log, and solution round trips -- on both engines."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from cardbase.schema_engine import layouts, rights
from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.db import Database
from cardbase.schema_engine.errors import Forbidden, InUse, NotFound, ValidationError
from cardbase.schema_engine.meta_models import CardLayout, ConfigChange, FieldRow, SavedView
from cardbase.schema_engine.query.model import ListQuery
from cardbase.schema_engine.snapshot import current_version
from cardbase.schema_engine.solution import export_solution, import_solution

from crm_fixture import crm
from rights_fixture import actor, add_group, add_user, join

ONE = {"tabs": [{"sections": [{"label": "Main", "columns": 2, "items": [
    {"field": "title"}, {"field": "amount", "column": 2, "label": "Value", "help": "Net"}]}]}]}


@pytest.fixture
def w(db):
    svc, store = crm(db)
    return svc, store


def version(db):
    with db.read() as conn:
        return current_version(conn)


def log(db, action):
    with db.read() as conn:
        return conn.execute(sa.select(ConfigChange.actor_id, ConfigChange.target, ConfigChange.details)
                            .where(ConfigChange.action == action).order_by(ConfigChange.id)).all()


def errors_of(fn, *args, **kw):
    with pytest.raises(ValidationError) as exc:
        fn(*args, **kw)
    return {k: " ".join(v) for k, v in exc.value.errors.items()}


def items(card, tab=0, section=0):
    return card["layout"]["tabs"][tab]["sections"][section]["items"]


# ---- generated default card ----------------------------------------------------------------------
def test_default_card_of_the_demo_crm(db):
    from cardbase.platform.demo import demo_solution

    import_solution(db, demo_solution())
    assert layouts.list_cards(db, "order") == []
    card = layouts.get_card(db, "order")
    assert card["id"] is None and card["is_default"] is True
    tab = card["layout"]["tabs"][0]
    assert len(card["layout"]["tabs"]) == 1 and tab["sections"][0]["label"] == "Details"
    assert tab["sections"][0]["columns"] == 2
    got = items(card)
    fields = [i for i in got if "field" in i]
    assert [i["field"] for i in fields] == ["order_date", "status", "organisation", "total"]  # total: computed
    assert [i["column"] for i in fields] == [1, 2, 1, 2]
    assert got[len(fields):] == [{"children": {"object": "order_line", "link": "order"}, "label": "Order lines",
                                  "columns": ["price", "quantity", "product", "cost"]}]
    org = items(layouts.get_card(db, "organisation"))
    lists = [(next(k for k in ("children", "related") if k in i), i[next(k for k in ("children", "related") if k in i)]["object"])
             for i in org if "field" not in i]
    assert lists == [("children", "contact_person"), ("related", "deal"), ("related", "order"), ("related", "task")]
    # the generated card is valid as it stands, and can be saved as the first card
    assert layouts.validate_card(db, "organisation", layouts.get_card(db, "organisation")["layout"]) \
        == layouts.get_card(db, "organisation")["layout"]
    saved = layouts.save_card(db, SYSTEM, "order", "Order", card["layout"])
    assert saved["is_default"] and saved["layout"] == card["layout"]
    table = layouts.default_table(db, "order")
    assert table["columns"][0] == {"field": "code"}  # the order's display field
    assert table["sort"] == "-created_at" and table["filter"] is None and table["page_size"] == 50
    interaction = [c["field"] for c in layouts.default_table(db, "interaction")["columns"]]
    assert "note" not in interaction  # long text left out


# ---- save / get / rename / removed fields ------------------------------------------------------
def test_save_stores_ids_and_survives_renames(w, db):
    svc, _ = w
    card = layouts.save_card(db, SYSTEM, "deal", "Main", ONE)
    assert card["is_default"] and card["name"] == "Main"
    assert items(card) == [{"field": "title", "column": 1},
                           {"field": "amount", "column": 2, "label": "Value", "help": "Net"}]
    deal = db.schema().object("deal")
    with db.read() as conn:
        stored = conn.execute(sa.select(CardLayout.layout)).scalar_one()
    assert [i["field"] for i in stored["tabs"][0]["sections"][0]["items"]] == \
        [f"#{deal.field('title').id}", f"#{deal.field('amount').id}"]
    svc.update_field(SYSTEM, "deal", "amount", {"name": "value"})
    svc.update_object(SYSTEM, "deal", {"name": "opportunity"})
    again = layouts.get_card(db, "opportunity", card["id"])
    assert [i["field"] for i in items(again)] == ["title", "value"]
    assert layouts.card_fields(again["layout"]) == ["title", "value"]
    # a card counts as a usage of its fields
    with pytest.raises(InUse, match="card 'Main' uses it"):
        svc.remove_field(SYSTEM, "opportunity", "value")


def test_fields_that_no_longer_exist_are_dropped_on_read(w, db):
    svc, _ = w
    svc.add_field(SYSTEM, "deal", {"name": "note", "label": "Note", "type": "text"})
    layout = {"tabs": [{"sections": [{"items": [{"field": "title"}, {"field": "note"}]}]}]}
    card = layouts.save_card(db, SYSTEM, "deal", "Main", layout)
    org_card = layouts.save_card(db, SYSTEM, "organisation", "Org", {"tabs": [{"sections": [{"items": [
        {"field": "name"},
        {"related": {"object": "deal", "link": "organisation"}, "columns": ["title", "note", "amount"]}]}]}]})
    note = db.schema().object("deal").field("note")
    with db.write() as conn:  # as if removed by an older version or a broken import
        conn.execute(sa.delete(FieldRow).where(FieldRow.id == note.id))
    db.schema_cache.invalidate()
    assert [i["field"] for i in items(layouts.get_card(db, "deal", card["id"]))] == ["title"]
    related = items(layouts.get_card(db, "organisation", org_card["id"]))[1]
    assert related["columns"] == ["title", "amount"]


# ---- validation -------------------------------------------------------------------------------------
@pytest.mark.parametrize("layout, key, message", [
    (None, "layout", "must be an object"),
    ({"tabs": []}, "layout.tabs", "non-empty list"),
    ({"tabs": [{"sections": [{"items": [{"field": "foo"}]}]}]},
     "layout.tabs[0].sections[0].items[0].field", "no field 'foo' on Deal"),
    ({"tabs": [{"sections": [{}, {"items": [{"field": "title"}, {"field": "name"}, {"field": "foo"}]}]}]},
     "layout.tabs[0].sections[1].items[2].field", "no field 'foo' on Deal"),
    ({"tabs": [{"sections": [{"items": [{"field": "title"}, {"field": "title"}]}]}]},
     "layout.tabs[0].sections[0].items[1].field", "already placed"),
    ({"tabs": [{"sections": [{"columns": 5, "items": []}]}]},
     "layout.tabs[0].sections[0].columns", "from 1 to 4"),
    ({"tabs": [{"sections": [{"columns": "2", "items": []}]}]},
     "layout.tabs[0].sections[0].columns", "from 1 to 4"),
    ({"tabs": [{"sections": [{"columns": 2, "items": [{"field": "title", "column": 3}]}]}]},
     "layout.tabs[0].sections[0].items[0].column", "from 1 to 2"),
    ({"tabs": [{"label": "x" * 201, "sections": []}]}, "layout.tabs[0].label", "at most 200"),
    ({"tabs": [{"sections": [{"label": 5, "items": []}]}]}, "layout.tabs[0].sections[0].label", "must be text"),
    ({"tabs": [{"label": "A", "sections": []}, {"sections": []}]}, "layout.tabs[1].label", "several tabs"),
    ({"tabs": [{"sections": [], "colour": "red"}]}, "layout.tabs[0].colour", "unknown key"),
    ({"tabs": [{"sections": [{"items": [{"field": "title", "related": {"object": "deal", "link": "x"}}]}]}]},
     "layout.tabs[0].sections[0].items[0]", "exactly one of"),
    ({"tabs": [{"sections": [{"items": [5]}]}]}, "layout.tabs[0].sections[0].items[0]", "must be an object"),
    ({"tabs": [{"label": f"T{i}", "sections": []} for i in range(21)]}, "layout.tabs", "at most 20"),
    ({"tabs": [{"sections": [{"items": []}] * 51}]}, "layout", "at most 50"),
    ({"tabs": [{"sections": [{"items": [{"field": "title"}] * 501}]}]}, "layout", "at most 500"),
])
def test_validation_errors_name_the_place(w, db, layout, key, message):
    errors = errors_of(layouts.validate_card, db, "deal", layout)
    assert key in errors and message in errors[key], errors


def test_child_lists_must_be_links_to_this_object(w, db):
    good = {"children": {"object": "contact", "link": "organisation"}, "columns": ["name"]}
    named = layouts.validate_card(db, "organisation", {"tabs": [{"sections": [{"items": [good]}]}]})
    assert named["tabs"][0]["sections"][0]["items"][0]["label"] == "Contact persons"
    where = "layout.tabs[0].sections[0].items[0]"
    cases = [
        ({"children": {"object": "nothing", "link": "organisation"}}, f"{where}.children.object", "no object"),
        ({"related": {"object": "deal", "link": "foo"}}, f"{where}.related.link", "no field 'foo' on Deal"),
        ({"related": {"object": "deal", "link": "title"}}, f"{where}.related.link", "is not a link to Organisation"),
        ({"related": {"object": "deal"}}, f"{where}.related", "must be"),
        ({"related": {"object": "deal", "link": "organisation"}, "columns": ["title", "nope"]},
         f"{where}.columns[1]", "no field 'nope' on Deal"),
        ({"related": {"object": "deal", "link": "organisation"}, "columns": ["title", "title"]},
         f"{where}.columns[1]", "listed twice"),
    ]
    for item, key, message in cases:
        errors = errors_of(layouts.validate_card, db, "organisation", {"tabs": [{"sections": [{"items": [item]}]}]})
        assert key in errors and message in errors[key], (item, errors)
    # a link of the child to another object is refused too
    errors = errors_of(layouts.validate_card, db, "deal", {"tabs": [{"sections": [{"items": [
        {"related": {"object": "contact", "link": "organisation"}}]}]}]})
    assert "is not a link to Deal" in errors[f"{where}.related.link"]


def test_card_names(w, db):
    layouts.save_card(db, SYSTEM, "deal", "Main", ONE)
    assert "already has a card named 'Main'" in errors_of(layouts.save_card, db, SYSTEM, "deal", "main", ONE)["name"]
    assert errors_of(layouts.save_card, db, SYSTEM, "deal", "  ", ONE)["name"] == "is required"
    assert errors_of(layouts.save_card, db, SYSTEM, "deal", None, ONE)["name"] == "is required"
    assert "at most 200" in errors_of(layouts.save_card, db, SYSTEM, "deal", "x" * 500, ONE)["name"]
    assert layouts.save_card(db, SYSTEM, "deal", "x" * 200, ONE)["name"] == "x" * 200
    layouts.save_card(db, SYSTEM, "organisation", "Main", {"tabs": [{"sections": []}]})  # per object
    with pytest.raises(NotFound):
        layouts.get_card(db, "deal", 999)
    with pytest.raises(NotFound):  # a card of another object
        layouts.get_card(db, "organisation", layouts.list_cards(db, "deal")[0]["id"])


def test_default_switching(w, db):
    a = layouts.save_card(db, SYSTEM, "deal", "A", ONE)
    b = layouts.save_card(db, SYSTEM, "deal", "B", ONE)
    assert a["is_default"] and not b["is_default"]  # the first card is the default
    assert layouts.get_card(db, "deal")["id"] == a["id"]
    layouts.save_card(db, SYSTEM, "deal", "B", ONE, card_id=b["id"], is_default=True)
    assert [(c["name"], c["is_default"]) for c in layouts.list_cards(db, "deal")] == [("A", False), ("B", True)]
    assert layouts.get_card(db, "deal")["id"] == b["id"]
    # saving without is_default keeps a card's status; renaming works
    layouts.save_card(db, SYSTEM, "deal", "B2", ONE, card_id=b["id"])
    assert layouts.get_card(db, "deal")["name"] == "B2"
    layouts.delete_card(db, SYSTEM, "deal", b["id"])  # the default goes: the oldest card takes over
    assert layouts.list_cards(db, "deal") == [{"id": a["id"], "name": "A", "is_default": True}]
    layouts.delete_card(db, SYSTEM, "deal", a["id"])
    assert layouts.get_card(db, "deal")["id"] is None  # generated again
    with pytest.raises(NotFound):
        layouts.delete_card(db, SYSTEM, "deal", a["id"])


def test_changes_are_logged_and_bump_the_schema_version(w, db):
    before = version(db)
    card = layouts.save_card(db, SYSTEM, "deal", "Main", ONE)
    assert version(db) == before + 1
    layouts.delete_card(db, SYSTEM, "deal", card["id"])
    layouts.save_table(db, SYSTEM, "deal", {"columns": ["title"]})
    view = layouts.save_view(db, SYSTEM, "deal", "Shared", {"columns": ["title"]}, shared=True)
    layouts.delete_view(db, SYSTEM, "deal", view["id"])
    assert version(db) == before + 5
    assert log(db, "save_card")[0].details["name"] == "Main"
    assert log(db, "delete_card")[0].details["card_id"] == card["id"]
    assert log(db, "save_table")[0].details == {"object": "deal", "columns": ["title"]}
    assert len(log(db, "save_view")) == 1 and len(log(db, "delete_view")) == 1
    # a refused change writes nothing
    with pytest.raises(ValidationError):
        layouts.save_card(db, SYSTEM, "deal", "Bad", {"tabs": []})
    assert version(db) == before + 5 and len(log(db, "save_card")) == 1


# ---- tables ------------------------------------------------------------------------------------------
def test_table_design_round_trip_and_renames(w, db):
    svc, _ = w
    assert [c["field"] for c in layouts.default_table(db, "deal")["columns"]] == ["title", "organisation", "amount"]
    design = {"columns": ["title", {"field": "organisation.city", "width": 120}, {"field": "amount"}],
              "sort": "-amount, title", "filter": {"field": "organisation.city", "op": "eq", "value": "a@b.de"},
              "page_size": 25}
    saved = layouts.save_table(db, SYSTEM, "deal", design)
    assert saved == {"columns": [{"field": "title"}, {"field": "organisation.city", "width": 120},
                                 {"field": "amount"}],
                     "sort": "-amount,title", "filter": design["filter"], "page_size": 25}
    with db.read() as conn:
        row = conn.execute(sa.select(SavedView)).mappings().one()
    assert row["owner_id"] is None and row["shared"] is True and row["definition"]["kind"] == "table"
    city = db.schema().object("organisation").field("city").id
    org = db.schema().object("deal").field("organisation").id
    assert row["definition"]["columns"][1]["field"] == f"#{org}.#{city}"
    svc.update_field(SYSTEM, "organisation", "city", {"name": "town"})
    table = layouts.default_table(db, "deal")
    assert table["columns"][1]["field"] == "organisation.town"
    assert table["filter"]["field"] == "organisation.town"
    with pytest.raises(InUse, match="the table of 'Organisations'|the table of 'Deals'"):
        svc.remove_field(SYSTEM, "organisation", "town")
    layouts.reset_table(db, SYSTEM, "deal")
    assert layouts.default_table(db, "deal")["sort"] == "-created_at"
    assert layouts.list_views(db, SYSTEM, "deal") == []  # the design is no view


@pytest.mark.parametrize("definition, key, message", [
    ({"columns": []}, "columns", "at least one"),
    ({"columns": ["nope"]}, "columns[0].field", "has no field 'nope'"),
    ({"columns": ["title", "organisation.nope"]}, "columns[1].field", "has no field 'nope'"),
    ({"columns": ["title.x"]}, "columns[0].field", "is not a link"),
    ({"columns": ["title", {"field": "title"}]}, "columns[1].field", "already column 1"),
    ({"columns": [{"field": "title", "width": 20}]}, "columns[0].width", "from 40 to 1000"),
    ({"columns": [{"field": "title", "width": 2000}]}, "columns[0].width", "from 40 to 1000"),
    ({"columns": [{"field": "title", "colour": 1}]}, "columns[0].colour", "unknown key"),
    ({"columns": ["title"], "sort": "-nope"}, "sort", "no field 'nope'"),
    ({"columns": ["title"], "sort": 5}, "sort", "must be a text"),
    ({"columns": ["title"], "filter": {"field": "amount", "op": "bogus", "value": 1}}, "filter", "unknown operator"),
    ({"columns": ["title"], "filter": {"field": "nope", "op": "eq", "value": 1}}, "filter", "no field 'nope'"),
    ({"columns": ["title"], "page_size": 0}, "page_size", "from 1 to 500"),
    ({"columns": ["title"], "extra": 1}, "extra", "unknown key"),
    ("title", "definition", "must be an object"),
])
def test_table_validation_errors(w, db, definition, key, message):
    errors = errors_of(layouts.validate_table, db, "deal", definition)
    assert key in errors and message in errors[key], errors


# ---- rights ------------------------------------------------------------------------------------------
@pytest.fixture
def people(w, db):
    svc, store = w
    sales, juniors = add_group(db, "Sales"), add_group(db, "Juniors")
    ann, ben = add_user(db, "ann"), add_user(db, "ben")
    join(db, ann, sales)
    join(db, ben, juniors)
    for group in ("Sales", "Juniors"):
        rights.set_object_rights(db, SYSTEM, group, "deal", ["read", "create", "edit"])
        rights.set_object_rights(db, SYSTEM, group, "organisation", ["read"])
    rights.set_field_right(db, SYSTEM, "Juniors", "deal", "amount", "hidden")
    store.create(SYSTEM, "deal", {"title": "Big", "amount": "900"})
    return actor(db, ann), actor(db, ben)


def test_configure_right_is_needed_for_cards_tables_and_shared_views(people, db):
    ann, ben = people
    with pytest.raises(Forbidden, match="configure right"):
        layouts.save_card(db, ann, "deal", "Main", ONE)
    with pytest.raises(Forbidden, match="configure right"):
        layouts.save_table(db, ann, "deal", {"columns": ["title"]})
    with pytest.raises(Forbidden, match="configure right"):
        layouts.save_view(db, ann, "deal", "Team", {"columns": ["title"]}, shared=True)
    assert layouts.list_cards(db, "deal") == [] and log(db, "save_card") == []
    rights.set_object_rights(db, SYSTEM, "Sales", "deal", ["read", "create", "edit", "configure"])
    ann = actor(db, ann.user_id)
    card = layouts.save_card(db, ann, "deal", "Main", ONE)
    assert log(db, "save_card")[0].actor_id == ann.user_id
    layouts.save_table(db, ann, "deal", {"columns": ["title", "amount"], "sort": "-amount"})
    shared = layouts.save_view(db, ann, "deal", "Team", {"columns": ["title", "amount"], "sort": "-amount",
                                                         "filter": {"and": [{"field": "title", "op": "eq", "value": "Big"},
                                                                            {"field": "amount", "op": "gt", "value": 1}]}},
                               shared=True)
    with pytest.raises(Forbidden):  # configure on deals says nothing about organisations
        layouts.save_card(db, ann, "organisation", "Main", {"tabs": [{"sections": []}]})
    with pytest.raises(Forbidden):
        layouts.delete_card(db, ben, "deal", card["id"])
    with pytest.raises(Forbidden):
        layouts.delete_view(db, ben, "deal", shared["id"])
    with pytest.raises(Forbidden):
        layouts.save_view(db, ben, "deal", "Mine now", {"columns": ["title"]}, view_id=shared["id"])
    # ben (amount hidden) still gets a working view: no amount column, sort or condition
    mine = layouts.get_view(db, ben, "deal", shared["id"])
    d = mine["definition"]
    assert [c["field"] for c in d["columns"]] == ["title"] and d["sort"] == ""
    assert d["filter"] == {"and": [{"field": "title", "op": "eq", "value": "Big"}]} and mine["filter_incomplete"]
    from cardbase.schema_engine.store import RecordStore

    page = RecordStore(db).list(ben, "deal", ListQuery(fields=[c["field"] for c in d["columns"]],
                                                       sort=d["sort"] or None, filter=d["filter"]))
    assert [r["title"] for r in page.data] == ["Big"]
    assert [c["field"] for c in layouts.default_table(db, "deal", actor=ben)["columns"]] == ["title"]
    full = layouts.get_view(db, ann, "deal", shared["id"])
    assert [c["field"] for c in full["definition"]["columns"]] == ["title", "amount"]
    assert not full["filter_incomplete"] and full["mine"] and not mine["mine"]


def test_personal_views_are_private(people, db):
    ann, ben = people
    view = layouts.save_view(db, ann, "deal", "My deals", {"sort": "title"})
    assert view["shared"] is False and view["owner_id"] == ann.user_id and view["mine"]
    assert [c["field"] for c in view["definition"]["columns"]] == ["title", "organisation", "amount"]  # the table's
    assert [v["name"] for v in layouts.list_views(db, ann, "deal")] == ["My deals"]
    assert layouts.list_views(db, ben, "deal") == []
    root = actor(db, add_user(db, "root", admin=True))
    assert layouts.list_views(db, root, "deal") == []  # private even from admins
    with pytest.raises(NotFound):
        layouts.get_view(db, ben, "deal", view["id"])
    with pytest.raises(NotFound):
        layouts.save_view(db, ben, "deal", "Taken", {"columns": ["title"]}, view_id=view["id"])
    with pytest.raises(NotFound):
        layouts.delete_view(db, ben, "deal", view["id"])
    # names: unique per owner; another user may use the same name
    assert "already has a view of yours" in errors_of(layouts.save_view, db, ann, "deal", "my DEALS", {})["name"]
    assert layouts.save_view(db, ben, "deal", "My deals", {})["owner_id"] == ben.user_id
    assert errors_of(layouts.save_view, db, ann, "deal", "", {})["name"] == "is required"
    assert "reserved" in errors_of(layouts.save_view, db, ann, "deal", "(table)", {})["name"]
    # personal views are user data: no schema version bump, no configuration log
    before = version(db)
    layouts.save_view(db, ann, "deal", "My deals", {"sort": "-title"}, view_id=view["id"])
    assert version(db) == before and log(db, "save_view") == []
    # a user without read on the object cannot keep views of it
    cat = actor(db, add_user(db, "cat"))
    with pytest.raises(Forbidden):
        layouts.save_view(db, cat, "deal", "Peek", {})
    with pytest.raises(Forbidden):
        layouts.list_views(db, cat, "deal")
    layouts.delete_view(db, ann, "deal", view["id"])
    assert layouts.list_views(db, ann, "deal") == []


def test_personal_views_do_not_block_removing_a_field(people, db, w):
    svc, _ = w
    ann, _ben = people
    svc.add_field(SYSTEM, "deal", {"name": "note", "label": "Note", "type": "string"})
    view = layouts.save_view(db, ann, "deal", "Notes", {"columns": ["title", "note"], "sort": "note"})
    svc.remove_field(SYSTEM, "deal", "note")
    got = layouts.get_view(db, ann, "deal", view["id"])["definition"]
    assert [c["field"] for c in got["columns"]] == ["title"] and got["sort"] == ""


def _stored_view(db, view_id):
    with db.read() as conn:
        return conn.execute(sa.select(SavedView.definition).where(SavedView.id == view_id)).scalar_one()


def test_a_view_save_keeps_what_the_reader_may_not_read(people, db):
    ann, ben = people
    rights.set_object_rights(db, SYSTEM, "Juniors", "deal", ["read", "configure"])
    ben = actor(db, ben.user_id)
    shared = layouts.save_view(db, SYSTEM, "deal", "Team", {
        "columns": ["title", "amount", "organisation"], "sort": "-amount,title",
        "filter": {"and": [{"field": "title", "op": "eq", "value": "Big"},
                           {"field": "amount", "op": "gt", "value": 1}]}}, shared=True)
    stored = _stored_view(db, shared["id"])
    # ben (amount hidden) renames it with what he was shown: the hidden parts stay as stored
    shown = layouts.get_view(db, ben, "deal", shared["id"])
    assert "amount" not in str(shown)
    renamed = layouts.save_view(db, ben, "deal", "Team 2", shown["definition"], shared=True, view_id=shared["id"])
    assert "amount" not in str(renamed) and renamed["filter_incomplete"]
    assert _stored_view(db, shared["id"]) == stored
    # a rename keeping the definition exactly, however it was written
    layouts.save_view(db, ben, "deal", "Team 3", layouts.tables.KEEP, shared=True, view_id=shared["id"])
    assert _stored_view(db, shared["id"]) == stored
    # he changes his part: his condition and columns change, the hidden ones stay at their place
    layouts.save_view(db, ben, "deal", "Team 3", {"columns": ["organisation", "title"], "sort": "-title",
                                                   "filter": {"field": "title", "op": "eq", "value": "Small"}},
                      shared=True, view_id=shared["id"])
    full = layouts.get_view(db, SYSTEM, "deal", shared["id"])["definition"]
    assert [c["field"] for c in full["columns"]] == ["organisation", "amount", "title"]
    assert full["sort"] == "-title"  # he changed the sort (he was shown "title"): his
    assert full["filter"] == {"and": [{"field": "title", "op": "eq", "value": "Small"},
                                      {"field": "amount", "op": "gt", "value": 1}]}


def test_a_view_refuses_fields_the_reader_may_not_read(people, db):
    ann, ben = people
    problems = errors_of(layouts.save_view, db, ben, "deal", "Peek", {
        "columns": ["title", "amount"], "sort": "amount",
        "filter": {"field": "amount", "op": "gt", "value": 1}})
    assert problems == {"columns[1].field": "'amount': object 'deal' has no field 'amount'",
                        "sort": "'amount': object 'deal' has no field 'amount'",
                        "filter": "'amount': object 'deal' has no field 'amount'"}  # as if it did not exist
    assert layouts.list_views(db, ben, "deal") == []
    assert layouts.save_view(db, ann, "deal", "Mine", {"columns": ["title", "amount"]})["definition"]["columns"][1] \
        == {"field": "amount"}


def test_saves_with_a_stale_fingerprint_are_refused(people, db):
    from cardbase.schema_engine.errors import Conflict

    ann, _ben = people
    card = layouts.save_card(db, SYSTEM, "deal", "Main", ONE)
    tag = layouts.cards.card_etag(layouts.get_card(db, "deal", card["id"]))
    assert tag == layouts.cards.card_etag(card)
    layouts.save_card(db, SYSTEM, "deal", "Main 2", ONE, card_id=card["id"])  # someone else
    with pytest.raises(Conflict) as exc:
        layouts.save_card(db, SYSTEM, "deal", "Mine", ONE, card_id=card["id"], expected=tag)
    assert exc.value.current["name"] == "Main 2" and layouts.get_card(db, "deal", card["id"])["name"] == "Main 2"
    fresh = layouts.cards.card_etag(exc.value.current)
    assert layouts.save_card(db, SYSTEM, "deal", "Mine", ONE, card_id=card["id"], expected=[fresh])["name"] == "Mine"

    tag = layouts.tables.table_etag(layouts.default_table(db, "deal"))  # the generated table
    layouts.save_table(db, SYSTEM, "deal", {"columns": ["title"]})
    with pytest.raises(Conflict):
        layouts.save_table(db, SYSTEM, "deal", {"columns": ["amount"]}, expected=tag)
    assert [c["field"] for c in layouts.default_table(db, "deal")["columns"]] == ["title"]
    tag = layouts.tables.table_etag(layouts.default_table(db, "deal"))
    layouts.save_table(db, SYSTEM, "deal", {"columns": ["amount"]}, expected=tag)

    view = layouts.save_view(db, ann, "deal", "Mine", {"sort": "title"})
    tag = layouts.tables.view_etag(view)
    layouts.save_view(db, ann, "deal", "Mine", {"sort": "-title"}, view_id=view["id"])
    with pytest.raises(Conflict):
        layouts.save_view(db, ann, "deal", "Renamed", {"sort": "title"}, view_id=view["id"], expected=tag)
    now = layouts.get_view(db, ann, "deal", view["id"])
    assert now["name"] == "Mine" and now["definition"]["sort"] == "-title"
    assert layouts.save_view(db, ann, "deal", "Renamed", {}, view_id=view["id"],
                             expected=layouts.tables.view_etag(now))["name"] == "Renamed"


# ---- solutions ------------------------------------------------------------------------------------------
def test_solution_round_trip_of_cards_tables_and_views(w, db, make_database, engine_name):
    svc, _ = w
    join(db, add_user(db, "ann"), add_group(db, "Sales"))
    rights.set_object_rights(db, SYSTEM, "Sales", "deal", ["read"])
    rights.set_object_rights(db, SYSTEM, "Sales", "organisation", ["read"])
    ann = actor(db, 1)
    layouts.save_card(db, SYSTEM, "organisation", "Full", {"tabs": [
        {"label": "Main #1", "sections": [{"label": "Top #3 @deal.title", "columns": 2, "items": [
            {"field": "name"}, {"field": "city", "column": 2}, {"field": "code", "column": 1},
            {"children": {"object": "contact", "link": "organisation"}, "columns": ["name", "code"]},
            {"related": {"object": "deal", "link": "organisation"}, "label": "Deals", "columns": ["title", "amount"]}]}]},
        {"label": "More", "sections": [{"items": [{"field": "vat"}]}]}]}, is_default=True)
    layouts.save_card(db, SYSTEM, "organisation", "Small", {"tabs": [{"sections": [{"items": ["name"]}]}]})
    layouts.save_table(db, SYSTEM, "deal", {"columns": ["title", "organisation.city"], "sort": "-organisation.name",
                                            "filter": {"field": "title", "op": "contains", "value": "info@acme.com #5"}})
    layouts.save_view(db, SYSTEM, "deal", "Berlin", {"columns": ["title"], "filter": {"not": {
        "field": "organisation.city", "op": "eq", "value": "Berlin"}}}, shared=True)
    layouts.save_view(db, ann, "deal", "Private", {"columns": ["title"]})
    doc = export_solution(db)
    assert {v["name"] for v in doc["views"]} == {"(table)", "Berlin"}  # personal views stay home
    table = next(v for v in doc["views"] if v["name"] == "(table)")["definition"]
    assert table["columns"][1]["field"] == "@deal.organisation.@organisation.city"
    assert table["sort"] == "-@deal.organisation.@organisation.name"
    assert table["filter"]["value"] == "info@acme.com #5"  # values untouched
    full = doc["cards"][0]["layout"]
    assert full["tabs"][0]["label"] == "Main #1"
    assert full["tabs"][0]["sections"][0]["label"] == "Top #3 @deal.title"
    assert full["tabs"][0]["sections"][0]["items"][3]["children"] == "@contact.organisation"
    other = Database(make_database(engine_name))
    try:
        other.create_system_tables()
        import_solution(other, doc)
        assert layouts.get_card(other, "organisation") == {**layouts.get_card(db, "organisation"),
                                                           "id": layouts.get_card(other, "organisation")["id"]}
        assert [(c["name"], c["is_default"]) for c in layouts.list_cards(other, "organisation")] == \
            [("Full", True), ("Small", False)]
        assert layouts.default_table(other, "deal") == layouts.default_table(db, "deal")
        views = layouts.list_views(other, SYSTEM, "deal")
        assert [v["name"] for v in views] == ["Berlin"]
        assert layouts.get_view(other, SYSTEM, "deal", views[0]["id"])["definition"] == \
            layouts.get_view(db, SYSTEM, "deal", next(v["id"] for v in layouts.list_views(db, SYSTEM, "deal")
                                                      if v["name"] == "Berlin"))["definition"]
        # exporting again gives the same document; importing again adds nothing
        again = export_solution(other)
        assert again["cards"] == doc["cards"] and again["views"] == doc["views"]
        assert import_solution(other, doc)["added"] == []
    finally:
        other.dispose()
    # a personal view named like a shared view is not overwritten by an import
    layouts.save_view(db, ann, "deal", "Berlin", {"columns": ["organisation"]})
    import_solution(db, doc)
    mine = next(v for v in layouts.list_views(db, ann, "deal") if v["mine"])
    assert [c["field"] for c in layouts.get_view(db, ann, "deal", mine["id"])["definition"]["columns"]] == ["organisation"]
