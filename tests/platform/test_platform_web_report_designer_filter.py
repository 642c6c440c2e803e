"""The report designer's filter builder, server side (issue 15, point 3): the builder is
offered the paths the user may read -- through links too -- with the operators of each
field type (relative dates, "me" on user fields, value pickers for choices and links);
a saved report's filter comes back as the builder's model; a preview with a filter in the
one filter language (relative dates, the current user, an or-group) figures exactly what
the store counts for that reader, and a bad condition is named, never a 500."""
from __future__ import annotations

import json
import re


from cardbase.report_builder import library
from cardbase.schema_engine import rights
from cardbase.schema_engine.actor import SYSTEM

from api_testlib import signed_in
from report_fixture import app_fixture, crm_fixture  # noqa: F401 (the crm and app fixtures)

FILTER = {"or": [{"field": "close_date", "op": "last_days", "value": 400},
                 {"and": [{"field": "owner", "op": "eq", "value": "me"},
                          {"field": "organisation.industry", "op": "in", "value": ["retail"]}]}]}
DEFINITION = {"object": "deal", "rows": [{"field": "stage"}], "measures": [{"op": "count"}], "filter": FILTER}


def _script(html: str, element_id: str):
    found = re.search(rf'<script type="application/json" id="{element_id}">(.*?)</script>', html, re.S)
    assert found, element_id
    return json.loads(found.group(1))


def test_the_designer_offers_the_lists_filter_builder(app, db, crm):
    rights.set_field_right(db, SYSTEM, "Sales", "deal", "secret_note", "hidden")
    html = signed_in(app, "bob").get("/reports/new?object=deal").get_data(as_text=True)
    assert 'id="cb-filter-form"' in html and "js/lists.js" in html
    entries = {e["path"]: e for e in _script(html, "cb-filter-fields")}
    assert "secret_note" not in entries  # hidden from bob: not offered
    assert "organisation.industry" in entries and entries["organisation.industry"]["input"] == "choice"
    assert {"next_days", "last_days", "overdue"} <= {o["op"] for o in entries["close_date"]["ops"]}
    assert entries["owner"]["me"] is True
    assert [c["value"] for c in entries["stage"]["choices"]] == ["lead", "proposal", "won", "lost"]
    assert entries["organisation"]["links_url"]  # the link picker's search
    assert _script(html, "cb-filter-model")["rows"] == []


def test_a_saved_filter_comes_back_as_the_builders_model(app, crm):
    with crm.store.session(crm.actor("bob"), write=True) as s:
        rid = library.save_report(s, {"name": "Mine", "definition": DEFINITION})["id"]
    html = signed_in(app, "bob").get(f"/reports/{rid}/edit").get_data(as_text=True)
    model = _script(html, "cb-filter-model")
    assert model["match"] == "or" and model["rows"][0] == FILTER["or"][0]  # the or-group's condition
    assert model["rows"][1]["match"] == "and" and model["rows"][1]["rows"] == FILTER["or"][1]["and"]  # nested
    simple = {**DEFINITION, "filter": {"and": [FILTER["or"][0], {"field": "stage", "op": "eq", "value": "won"}]}}
    with crm.store.session(crm.actor("bob"), write=True) as s:
        rid = library.save_report(s, {"name": "Simple", "definition": simple})["id"]
    model = _script(signed_in(app, "bob").get(f"/reports/{rid}/edit").get_data(as_text=True), "cb-filter-model")
    assert model["match"] == "and" and model["rows"] == simple["filter"]["and"]


def test_the_preview_figures_what_the_store_counts_for_the_filter(app, crm):
    bob = signed_in(app, "bob")
    token = re.search(r'name="csrf_token" value="([^"]+)"', bob.get("/reports/new").get_data(as_text=True)).group(1)
    answer = bob.post("/reports/preview", json=DEFINITION, headers={"X-CSRFToken": token})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    data = answer.get_json()["data"]
    with crm.store.session(crm.actor("bob")) as s:
        expected = s.count("deal", FILTER)[0]
        mine_in_retail = s.count("deal", FILTER["or"][1])[0]
    assert mine_in_retail == 2  # B and D: bob's deals at Beta (G is ann's)
    assert int(data["total"]["texts"][0]) == expected >= mine_in_retail
    bad = bob.post("/reports/preview", json={**DEFINITION, "filter": {"field": "close_date", "op": "next_days",
                                                                      "value": "soon"}},
                   headers={"X-CSRFToken": token})
    assert bad.status_code == 400 and "filter" in json.dumps(bad.get_json())
