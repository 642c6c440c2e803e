"""The filter builder's nested and/or groups (issue 13, point 5): any stored and/or tree
loads back into the builder (lists, saved views, rule views, the report designer), in the
builder's model of groups ("all of", "any of", "none of") holding conditions and groups;
only an invalid condition is shown as JSON. The groups' words come in the reader's language."""
from __future__ import annotations

import json
import re

import pytest
from api_testlib import crm_app, signed_in

from cardbase.platform import users
from cardbase.platform.web.filter_form import builder_model
from cardbase.schema_engine import rights
from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.store.records import RecordStore

WON_OR_LEAD = {"or": [{"field": "stage", "op": "eq", "value": "won"}, {"field": "stage", "op": "eq", "value": "lead"}]}
NESTED = {"and": [WON_OR_LEAD, {"field": "probability", "op": "lt", "value": 50}]}


@pytest.fixture
def app(db):
    return crm_app(db)


@pytest.fixture
def root(app):
    return signed_in(app, "root")


def model_of(page: str) -> dict:
    found = re.search(r'<script type="application/json" id="cb-filter-model">(.*?)</script>', page, re.S)
    assert found, "the page has no filter builder"
    return json.loads(found.group(1))


def test_builder_model_keeps_nested_groups_and_round_trips():
    model = builder_model(NESTED)
    assert model["match"] == "and"
    assert model["rows"] == [{"match": "or", "rows": WON_OR_LEAD["or"]}, NESTED["and"][1]]
    deep = {"or": [{"and": [{"or": [{"field": "title", "op": "contains", "value": "x"},
                                     {"field": "title", "op": "eq", "value": None}]},
                            {"field": "probability", "op": "ge", "value": 1}]},
                   {"field": "stage", "op": "eq", "value": "won"}]}
    deep_model = builder_model(deep)
    assert deep_model["match"] == "or" and deep_model["rows"][0]["rows"][0]["match"] == "or"

    def tree(group: dict) -> dict:  # what lists.js writes back from the model
        return {group["match"]: [tree(r) if "rows" in r else r for r in group["rows"]]}
    assert tree(model) == NESTED and tree(deep_model) == deep
    assert builder_model(None)["rows"] == [] and builder_model(NESTED["and"][1])["rows"] == [NESTED["and"][1]]
    # "none of": a not of an or-group holds its items; any other negated condition or group is its one item
    assert builder_model({"and": [{"not": WON_OR_LEAD}]})["rows"] == [{"match": "not", "rows": WON_OR_LEAD["or"]}]
    assert builder_model({"not": NESTED})["rows"] == [{"match": "not", "rows": [
        {"match": "and", "rows": [{"match": "or", "rows": WON_OR_LEAD["or"]}, NESTED["and"][1]]}]}]
    negated = {"or": [{"not": {"field": "stage", "op": "eq", "value": "won"}}, {"not": NESTED}]}

    def tree_of(group: dict) -> dict:  # lists.js's writing of a group, "none of" included
        items = [tree_of(r) if "rows" in r else r for r in group["rows"]]
        if group["match"] == "not":
            return {"not": items[0] if len(items) == 1 else {"or": items}}
        return items[0] if len(items) == 1 else {group["match"]: items}
    assert tree_of(builder_model(negated)) == negated
    assert tree_of(builder_model({"not": WON_OR_LEAD})) == {"not": WON_OR_LEAD}
    # shapes the builder cannot show: a bad node, a tree deeper than the language allows
    assert builder_model({"and": [WON_OR_LEAD], "or": []})["rows"] is None
    assert builder_model({"and": ["stage"]})["rows"] is None
    too_deep: dict = {"field": "stage", "op": "eq", "value": "won"}
    for _ in range(11):
        too_deep = {"and": [too_deep, {"field": "probability", "op": "lt", "value": 5}]}
    assert builder_model(too_deep)["rows"] is None
    assert set(model["texts"]) >= {"all_of", "any_of", "add_group", "remove_group", "group_match"}


def test_a_list_and_a_saved_view_load_a_nested_filter_into_the_builder(app, db, root):
    store = RecordStore(db)
    for title, stage, probability in (("won-small", "won", 10), ("lead-small", "lead", 20),
                                      ("won-big", "won", 90)):
        store.create(SYSTEM, "deal", {"title": title, "stage": stage, "probability": probability})
    page = root.get("/o/deal", query_string={"filter": json.dumps(NESTED)})
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "won-small" in body and "lead-small" in body and "won-big" not in body
    model = model_of(body)
    assert model["rows"][0] == {"match": "or", "rows": WON_OR_LEAD["or"]}
    assert 'id="cb-filter-advanced"' in body and 'class="mt-2 d-none" id="cb-filter-advanced"' in body  # JSON box stays hidden
    saved = root.post("/o/deal/views", data={"name": "Small ones", "definition": json.dumps({"filter": NESTED}),
                                             "next": "/o/deal"})
    assert saved.status_code == 302
    view_id = int(re.search(r"view=(\d+)", saved.headers["Location"]).group(1))
    view_page = root.get("/o/deal", query_string={"view": view_id}).get_data(as_text=True)
    assert model_of(view_page)["rows"][0]["match"] == "or"
    assert "won-big" not in view_page and "won-small" in view_page


def test_a_rule_view_with_nested_groups_previews_saves_and_opens_in_the_builder(app, db, root):
    users.create_group(db, SYSTEM, "Juniors")
    gid = users.list_groups(db)[0]["id"]
    store = RecordStore(db)
    for title, stage, probability in (("a", "won", 10), ("b", "lead", 20), ("c", "won", 90)):
        store.create(SYSTEM, "deal", {"title": title, "stage": stage, "probability": probability})
    count = root.get("/admin/rule-views/count/deal", query_string={"filter": json.dumps(NESTED)})
    assert count.get_json() == {"count": 2, "estimated": False}
    saved = root.post("/admin/rule-views/new/deal", data={"name": "Small", "group": gid, "level": "read",
                                                          "filter": json.dumps(NESTED), "action": "save"})
    assert saved.status_code == 302
    [view] = [v for v in rights.rule_views(db, "deal") if v["name"] == "Small"]
    assert view["filter"] == NESTED
    edit = root.get(f"/admin/rule-views/{view['id']}").get_data(as_text=True)
    model = model_of(edit)
    assert model["match"] == "and" and model["rows"][0] == {"match": "or", "rows": WON_OR_LEAD["or"]}
    assert model["texts"]["any_of"] == "any of"


def test_the_group_words_come_in_german(app, db, root):
    root.post("/account/language", data={"language": "de"})
    texts = model_of(root.get("/o/deal").get_data(as_text=True))["texts"]
    assert texts["all_of"] == "alle von" and texts["any_of"] == "eine von" and texts["none_of"] == "keine von"
    assert texts["add_group"] == "Gruppe hinzufügen" and texts["remove_group"] == "Gruppe entfernen"
