"""Many-to-many links in the browser (issue 14, point 10): the card shows a multi-link as
a small table of the linked records (each a link to its card, removable) with the link
picker to add more, all saved with the card in one POST, on a new card too; a read-only
user sees the list without controls; bad input (an id that is none, a missing, trashed or
invisible record) is answered at the field naming the record, and nothing is written.
Lists show the names (one query per page for the links), refuse sorting by them, export
the names; the filter builder offers "has any of" / "has all of" with the picker; the
configurator offers the type. Through the Flask test client, on both engines."""
from __future__ import annotations

import csv
import io
import json
import re

import lxml.html
import pytest
from openpyxl import load_workbook

from cardbase.platform import users
from cardbase.platform.app import create_app
from cardbase.schema_engine import rights
from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.rights.scopes import set_record_scope
from cardbase.schema_engine.schema_service import SchemaService
from cardbase.schema_engine.store.records import RecordStore

from api_testlib import signed_in
from designer_testlib import field_form, page
from sql_recorder import recorded

PASSWORD = "s3cret-password"
TEST_CONFIG = {"TESTING": True, "WTF_CSRF_ENABLED": False, "CARDBASE_LOGIN_SLEEP": lambda seconds: None}


def build(db) -> dict[str, int]:
    """Tags (red, green, blue, secret), deals with a multi-link ``tags``; root (admin),
    sam (Sales: deals, tags, but not the tag 'secret'), reader (Readers: read only)."""
    svc, store = SchemaService(db), RecordStore(db)
    svc.create_object(SYSTEM, {"name": "tag", "label": "Tag", "label_plural": "Tags", "code_pattern": "TAG-{000}",
                               "fields": [{"name": "name", "label": "Name", "type": "string", "required": True},
                                          {"name": "colour", "label": "Colour", "type": "string"}]})
    svc.create_object(SYSTEM, {"name": "deal", "label": "Deal", "label_plural": "Deals", "code_pattern": "D-{0000}",
                               "display_field": "title", "fields": [
        {"name": "title", "label": "Title", "type": "string", "required": True},
        {"name": "tags", "label": "Tags", "type": "links", "options": {"target": "tag"}}]})
    tags = {n: store.create(SYSTEM, "tag", {"name": n, "colour": n.upper()})["id"] for n in ("red", "green", "blue", "secret")}
    deal = store.create(SYSTEM, "deal", {"title": "Big deal", "tags": [tags["red"], tags["green"]]})
    users.create_user(db, "root", PASSWORD, is_admin=True)
    users.create_user(db, "sam", PASSWORD)
    users.create_user(db, "reader", PASSWORD)
    users.create_group(db, SYSTEM, "Sales")
    users.create_group(db, SYSTEM, "Readers")
    users.add_member(db, SYSTEM, "sam", "Sales")
    users.add_member(db, SYSTEM, "reader", "Readers")
    for name in ("deal", "tag"):
        rights.admin.set_object_rights(db, SYSTEM, "Sales", name, ["read", "create", "edit", "delete", "export"])
        rights.admin.set_object_rights(db, SYSTEM, "Readers", name, ["read"])
    rights.save_rule_view(db, SYSTEM, "Sales", "tag", "Not secret", {"field": "name", "op": "ne", "value": "secret"})
    set_record_scope(db, SYSTEM, "Sales", "tag", "rule_views")  # sam cannot see the tag 'secret'
    return {**tags, "deal": deal["id"]}


@pytest.fixture
def site(db):
    ids = build(db)
    return create_app(TEST_CONFIG, db=db), db, ids


def client_for(app, username: str):
    return signed_in(app, username, PASSWORD)


def doc_of(response, status: int = 200):
    body = response.get_data(as_text=True)
    assert response.status_code == status, body[-3000:]
    return lxml.html.fromstring(body)


def card_form(doc) -> dict[str, str]:
    """The bookkeeping inputs a browser sends back with the card."""
    form = doc.xpath('//form[@id="cb-card-form"]')[0]
    return {el.get("name"): el.get("value") or "" for el in form.xpath('.//input[@name="_version" or @name="_original"]')}


def linked_ids(db, deal: int) -> list[int]:
    return [ref.id for ref in RecordStore(db).get(SYSTEM, "deal", deal)["tags"] or ()]


def field_error(doc, name: str) -> str:
    found = doc.xpath(f'//div[@data-field="{name}"]//div[contains(@class, "cb-field-error")]')
    return " ".join(found[0].text_content().split()) if found else ""


# ---- the card ----------------------------------------------------------------------------------
def test_the_card_shows_the_linked_records_as_rows_with_the_picker(site):
    app, _db, ids = site
    doc = doc_of(client_for(app, "sam").get(f"/o/deal/{ids['deal']}"))
    box = doc.xpath('//div[@data-field="tags"]')[0]
    rows = box.xpath('.//tr[contains(@class, "cb-multi-row")]')
    assert [r.get("data-id") for r in rows] == [str(ids["red"]), str(ids["green"])]
    assert [a.get("href") for a in box.xpath(".//tr//a")] == [f"/o/tag/{ids['red']}", f"/o/tag/{ids['green']}"]
    assert [a.text for a in box.xpath(".//tr//a")] == ["red", "green"]
    assert [el.get("value") for el in box.xpath('.//input[@name="f-tags"]')] == [str(ids["red"]), str(ids["green"])]
    assert [b.get("aria-label") for b in box.xpath('.//button[contains(@class, "cb-multi-remove")]')] == \
        ["Remove: red", "Remove: green"]
    picker = box.xpath('.//div[contains(@class, "cb-multi-picker")]')[0]
    assert box.xpath('.//label[@for="cb-f-tags"]') and picker.xpath('.//input[@id="cb-f-tags"][@role="combobox"]')
    assert picker.xpath('.//a[contains(@class, "cb-link-new")]')[0].get("href") == "/o/tag/new?pick=cb-f-tags"
    # beside the name, the first further column of the tag's table (one read for all rows)
    assert [th.text_content().strip() for th in box.xpath(".//thead/tr/th")] == ["Name", "Colour", "Remove"]
    assert [r.xpath("./td")[1].text_content() for r in rows] == ["RED", "GREEN"]
    assert picker.get("data-url") == "/o/deal/links/tags?cells=1"


def test_the_card_reads_its_rows_without_a_query_per_linked_record(site):
    app, db, ids = site
    store = RecordStore(db)
    one = store.create(SYSTEM, "deal", {"title": "One", "tags": [ids["red"]]})["id"]
    three = store.create(SYSTEM, "deal", {"title": "Three", "tags": [ids["red"], ids["green"], ids["blue"]]})["id"]
    sam = client_for(app, "sam")
    sam.get(f"/o/deal/{one}")  # warm: what a first request caches

    def statements(deal: int) -> int:
        with recorded(db.engine) as seen:
            doc = doc_of(sam.get(f"/o/deal/{deal}"))
        assert doc.xpath('//div[@data-field="tags"]//tbody/tr')
        return len(seen)

    assert statements(one) == statements(three)

def test_the_picker_offers_the_targets_the_user_may_see(site):
    app, _db, ids = site
    found = client_for(app, "sam").get("/o/deal/links/tags?q=").get_json()
    assert sorted(item["display"] for item in found) == ["blue", "green", "red"]  # not 'secret'
    found = client_for(app, "root").get("/o/deal/links/tags?q=sec").get_json()
    assert found == [{"id": ids["secret"], "display": "secret"}]
    found = client_for(app, "root").get("/o/deal/links/tags?q=sec&cells=1").get_json()
    assert found == [{"id": ids["secret"], "display": "secret", "cells": ['<td class="text-start">SECRET</td>']}]


def test_add_and_remove_records_saved_with_the_card_in_one_post(site):
    app, db, ids = site
    sam = client_for(app, "sam")
    doc = doc_of(sam.get(f"/o/deal/{ids['deal']}"))
    response = sam.post(f"/o/deal/{ids['deal']}", data={
        **card_form(doc), "f-tags-present": "1", "f-tags": [str(ids["blue"]), str(ids["red"]), str(ids["green"])],
        "f-tags-text": ["blue", "red", "green"]})
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    assert linked_ids(db, ids["deal"]) == [ids["blue"], ids["red"], ids["green"]]  # in the order chosen
    doc = doc_of(sam.get(f"/o/deal/{ids['deal']}"))
    response = sam.post(f"/o/deal/{ids['deal']}", data={**card_form(doc), "f-tags-present": "1",
                                                        "f-tags": [str(ids["blue"])]})
    assert response.status_code == 302
    assert linked_ids(db, ids["deal"]) == [ids["blue"]]
    doc = doc_of(sam.get(f"/o/deal/{ids['deal']}"))
    response = sam.post(f"/o/deal/{ids['deal']}", data={**card_form(doc), "f-tags-present": "1"})  # all removed
    assert response.status_code == 302 and linked_ids(db, ids["deal"]) == []
    # the history names the records
    history = doc_of(sam.get(f"/o/deal/{ids['deal']}")).xpath('//*[contains(@class, "cb-history")]')
    assert history and "blue" in history[0].text_content()


def test_a_new_card_links_records_before_its_first_save(site):
    app, db, ids = site
    sam = client_for(app, "sam")
    doc = doc_of(sam.get("/o/deal/new"))
    assert doc.xpath('//div[@data-field="tags"]//div[contains(@class, "cb-multi-picker")]')
    assert doc.xpath('//div[@data-field="tags"]//p[contains(@class, "cb-multi-empty")][not(@hidden)]')
    # "?tags=<id>" (e.g. "New deal" from a tag's card) starts the table with those records
    doc = doc_of(sam.get(f"/o/deal/new?tags={ids['blue']}&tags={ids['secret']}"))
    rows = doc.xpath('//div[@data-field="tags"]//tbody/tr')
    assert [(r.get("data-id"), r.xpath(".//a")[0].text) for r in rows] == [(str(ids["blue"]), "blue"),
                                                                           (str(ids["secret"]), f"#{ids['secret']}")]
    response = sam.post("/o/deal/new", data={"f-title": "Fresh", "f-tags-present": "1",
                                              "f-tags": [str(ids["green"]), str(ids["blue"])]})
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    new_id = int(response.headers["Location"].rstrip("/").split("/")[-1])
    assert linked_ids(db, new_id) == [ids["green"], ids["blue"]]


@pytest.mark.parametrize("case", ["not an id", "missing", "trashed", "invisible"])
def test_a_bad_record_is_refused_at_the_field_naming_it(site, case):
    app, db, ids = site
    store = RecordStore(db)
    if case == "trashed":
        store.delete(SYSTEM, "tag", ids["blue"])
    bad, message = {
        "not an id": ("abc", "abc"),
        "missing": ("99999", "there is no 'Tag' record with id 99999"),
        "trashed": (str(ids["blue"]), "'Tag' record TAG-003 is in the trash"),
        "invisible": (str(ids["secret"]), f"there is no 'Tag' record with id {ids['secret']}"),
    }[case]
    sam = client_for(app, "sam")
    doc = doc_of(sam.get(f"/o/deal/{ids['deal']}"))
    before = store.get(SYSTEM, "deal", ids["deal"])
    response = sam.post(f"/o/deal/{ids['deal']}", data={
        **card_form(doc), "f-title": "Renamed", "f-tags-present": "1", "f-tags": [str(ids["red"]), bad],
        "f-tags-text": ["red", "Bad one"]})
    doc = doc_of(response, 422)
    assert message in field_error(doc, "tags"), field_error(doc, "tags")
    # the rows stay as the user chose them, the bad one included, for correcting
    assert [r.get("data-id") for r in doc.xpath('//div[@data-field="tags"]//tbody/tr')] == [str(ids["red"]), bad]
    after = store.get(SYSTEM, "deal", ids["deal"])
    assert after["version"] == before["version"] and after["title"] == "Big deal"  # nothing written
    assert linked_ids(db, ids["deal"]) == [ids["red"], ids["green"]]


def test_a_read_only_user_sees_the_list_without_controls(site):
    app, _db, ids = site
    doc = doc_of(client_for(app, "reader").get(f"/o/deal/{ids['deal']}"))
    box = doc.xpath('//div[@data-field="tags"]')[0]
    assert [a.text for a in box.xpath(".//a")] == ["red", "green"]
    assert [a.get("href") for a in box.xpath(".//a")] == [f"/o/tag/{ids['red']}", f"/o/tag/{ids['green']}"]
    assert not box.xpath(".//input | .//button")


def test_a_link_to_a_record_the_user_cannot_see_is_kept_when_saving(site):
    app, db, ids = site
    RecordStore(db).update(SYSTEM, "deal", ids["deal"], {"tags": [ids["secret"], ids["red"]]}, version=1)
    sam = client_for(app, "sam")
    doc = doc_of(sam.get(f"/o/deal/{ids['deal']}"))
    rows = doc.xpath('//div[@data-field="tags"]//tbody/tr')
    assert [r.get("data-id") for r in rows] == [str(ids["secret"]), str(ids["red"])]
    assert "secret" not in rows[0].text_content() and "restricted" in rows[0].text_content()
    response = sam.post(f"/o/deal/{ids['deal']}", data={
        **card_form(doc), "f-tags-present": "1", "f-tags": [str(ids["secret"]), str(ids["red"]), str(ids["blue"])]})
    assert response.status_code == 302
    assert linked_ids(db, ids["deal"]) == [ids["secret"], ids["red"], ids["blue"]]


# ---- lists ----------------------------------------------------------------------------------------
def test_the_list_shows_names_as_links_with_one_query_per_page(site):
    app, db, ids = site
    store = RecordStore(db)
    sam = client_for(app, "sam")

    def statements(n: int) -> list[str]:
        with recorded(db.engine) as seen:
            doc = doc_of(sam.get("/o/deal?cols=title,tags&limit=100"))
        assert len(doc.xpath('//table[@id="cb-list-table"]/tbody/tr[td/a[starts-with(@href, "/o/tag/")]]')) == n
        return [s for s in seen if "lnk_" in s]

    few = statements(1)
    store.bulk_create(SYSTEM, "deal", [{"title": f"D{i}", "tags": [ids["red"], ids["blue"]][: i % 3]} for i in range(30)])
    many = statements(1 + 20)  # i % 3 == 0 has no tags
    assert len(few) == len(many) == 1  # the links of a page: one query, whatever the rows
    doc = doc_of(sam.get("/o/deal?cols=title,tags&filter=" + json.dumps({"field": "title", "op": "eq",
                                                                         "value": "Big deal"})))
    cell = doc.xpath('//table[@id="cb-list-table"]/tbody/tr/td[a[starts-with(@href, "/o/tag/")]]')[0]
    assert [(a.text, a.get("href")) for a in cell.xpath("./a")] == [("red", f"/o/tag/{ids['red']}"),
                                                                   ("green", f"/o/tag/{ids['green']}")]
    assert " ".join(cell.text_content().split()) == "red, green"


def test_sorting_by_a_multi_link_is_not_offered_and_refused_clearly(site):
    app, _db, _ids = site
    sam = client_for(app, "sam")
    doc = doc_of(sam.get("/o/deal?cols=title,tags"))
    head = doc.xpath('//th[@data-path="tags"]')[0]
    assert not head.xpath(".//a") and head.get("aria-sort") is None
    doc = doc_of(sam.get("/o/deal?cols=title,tags&sort=tags"), 400)
    alerts = [" ".join(a.text_content().split()) for a in doc.xpath('//*[contains(@class, "cb-list-error")]')]
    assert any("'tags'" in a and "cannot be sorted" in a for a in alerts), alerts


def test_csv_export_writes_the_names(site):
    app, _db, ids = site
    response = client_for(app, "sam").get("/o/deal/export.csv?cols=title,tags")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert rows == [["Title", "Tags"], ["Big deal", "red, green"]]


def test_a_bulk_change_sets_the_records_of_every_ticked_row(site):
    app, db, ids = site
    store = RecordStore(db)
    other = store.create(SYSTEM, "deal", {"title": "Other"})["id"]
    sam = client_for(app, "sam")
    doc = doc_of(sam.get("/o/deal"))
    control = doc.xpath('//form[@id="cb-bulk-form"]//div[@data-field="tags"]//div[contains(@class, "cb-multi-picker")]')
    assert control and control[0].get("data-url").startswith("/o/deal/links/tags")
    rows = [f"{ids['deal']}:1", f"{other}:1"]
    response = sam.post("/o/deal/bulk", data={"r": rows, "next": "/o/deal", "op": "change", "field": "tags",
                                              "v-tags-present": "1", "v-tags": [str(ids["blue"]), str(ids["red"])]})
    assert response.status_code == 302
    assert linked_ids(db, ids["deal"]) == linked_ids(db, other) == [ids["blue"], ids["red"]]
    # a record sam may not see is refused for all of them, naming it; nothing changes
    response = sam.post("/o/deal/bulk", data={"r": [f"{ids['deal']}:2", f"{other}:2"], "next": "/o/deal",
                                              "op": "change", "field": "tags", "v-tags-present": "1",
                                              "v-tags": [str(ids["secret"])]})
    body = doc_of(sam.get(response.headers["Location"]))
    assert f"there is no 'Tag' record with id {ids['secret']}" in " ".join(body.text_content().split())
    assert linked_ids(db, ids["deal"]) == linked_ids(db, other) == [ids["blue"], ids["red"]]

# ---- the filter builder -----------------------------------------------------------------------------
def test_the_filter_builder_offers_has_any_of_with_the_picker_in_german(site):
    app, db, ids = site
    body = client_for(app, "sam").get("/o/deal").get_data(as_text=True)
    entries = {e["path"]: e for e in json.loads(re.search(r'id="cb-filter-fields">(.*?)</script>', body, re.S).group(1))}
    tags = entries["tags"]
    assert [o["op"] for o in tags["ops"]][:2] == ["has_any", "has_all"]
    assert {"is_empty", "is_not_empty"} <= {o["op"] for o in tags["ops"]}
    assert tags["input"] == "link" and tags["multi"] and tags["links_url"] == "/o/deal/links/tags"
    assert {o["op"]: o["label"] for o in tags["ops"]}["has_any"] == "has any of"
    users.update_user(db, SYSTEM, "sam", language="de")
    body = client_for(app, "sam").get("/o/deal").get_data(as_text=True)
    entries = {e["path"]: e for e in json.loads(re.search(r'id="cb-filter-fields">(.*?)</script>', body, re.S).group(1))}
    labels = {o["op"]: o["label"] for o in entries["tags"]["ops"]}
    assert labels["has_any"] == "hat einen von" and labels["has_all"] == "hat alle von"
    assert labels["is_empty"] == "ist leer"


def test_a_saved_view_filters_by_has_any_of(site):
    app, db, ids = site
    store = RecordStore(db)
    store.create(SYSTEM, "deal", {"title": "Blue one", "tags": [ids["blue"]]})
    store.create(SYSTEM, "deal", {"title": "Bare"})
    sam = client_for(app, "sam")
    tree = {"field": "tags", "op": "has_any", "value": [ids["green"], ids["blue"]]}
    doc = doc_of(sam.get("/o/deal?cols=title&sort=title&filter=" + json.dumps(tree)))
    body = lxml.html.tostring(doc, encoding="unicode")
    assert "Big deal" in body and "Blue one" in body and ">Bare<" not in body
    model = json.loads(re.search(r'id="cb-filter-model">(.*?)</script>', body, re.S).group(1))
    assert model["rows"] == [tree]
    # the builder gets the chosen records' names, under the reader's rights ('secret' stays "#id")
    with_secret = {**tree, "value": [ids["green"], ids["blue"], ids["secret"]]}
    body = sam.get("/o/deal?cols=title&filter=" + json.dumps(with_secret)).get_data(as_text=True)
    entries = {e["path"]: e for e in json.loads(re.search(r'id="cb-filter-fields">(.*?)</script>', body, re.S).group(1))}
    assert entries["tags"]["names"] == {str(ids["green"]): "green", str(ids["blue"]): "blue"}
    # saved as a view, the condition comes back as it was, and so do the rows
    response = sam.post("/o/deal/views", data={"name": "Green or blue", "definition": json.dumps(
        {"columns": [{"field": "title"}], "sort": "title", "filter": tree})})
    assert response.status_code == 302 and "view=" in response.headers["Location"]
    body = lxml.html.tostring(doc_of(sam.get(response.headers["Location"])), encoding="unicode")
    assert "Big deal" in body and "Blue one" in body and ">Bare<" not in body
    assert json.loads(re.search(r'id="cb-filter-model">(.*?)</script>', body, re.S).group(1))["rows"] == [tree]
    empty = doc_of(sam.get("/o/deal?cols=title&filter=" + json.dumps({"field": "tags", "op": "is_empty"})))
    body = lxml.html.tostring(empty, encoding="unicode")
    assert "Bare" in body and "Big deal" not in body


def test_a_rule_view_on_a_multi_link_opens_in_the_builder_with_the_names(site):
    app, db, ids = site
    tree = {"field": "tags", "op": "has_all", "value": [ids["red"], ids["secret"]]}
    view = rights.save_rule_view(db, SYSTEM, "Readers", "deal", "Red and secret", tree)
    body = client_for(app, "root").get(f"/admin/rule-views/{view}").get_data(as_text=True)
    entries = {e["path"]: e for e in json.loads(re.search(r'id="cb-filter-fields">(.*?)</script>', body, re.S).group(1))}
    assert entries["tags"]["links_url"] == "/o/deal/links/tags" and entries["tags"]["input"] == "link"
    assert entries["tags"]["names"] == {str(ids["red"]): "red", str(ids["secret"]): "secret"}  # the admin sees all
    model = json.loads(re.search(r'id="cb-filter-model">(.*?)</script>', body, re.S).group(1))
    assert model["rows"] == [tree]

# ---- the configurator ---------------------------------------------------------------------------
def test_the_configurator_offers_the_type_with_its_target(site):
    app, db, _ids = site
    root = client_for(app, "root")
    html, state = page(root, "/designer/objects/tag/new-field")
    doc = lxml.html.fromstring(html)
    assert "links" in [o.get("value") for o in doc.xpath('//select[@name="type"]/option')]
    assert "deal" in [o.get("value") for o in doc.xpath('//select[@name="links.target"]/option')]
    response = root.post("/designer/objects/tag/new-field",
                         data=field_form(state, label="Deals", type="links", **{"links.target": "deal"}))
    assert response.status_code == 302, response.get_data(as_text=True)[-3000:]
    field = db.schema().object("tag").field("deals")
    assert field.type == "links" and field.options["target"] == db.schema().object("deal").id
    # the card (generated from the fields) places it with its picker
    doc = doc_of(root.get(f"/o/tag/{_ids['red']}"))
    assert doc.xpath('//div[@data-field="deals"]//div[contains(@class, "cb-multi-picker")]')



def test_a_stale_save_keeps_my_rows_and_offers_the_saved_set(site):
    app, db, ids = site
    sam = client_for(app, "sam")
    doc = doc_of(sam.get(f"/o/deal/{ids['deal']}"))
    form = card_form(doc)
    RecordStore(db).update(SYSTEM, "deal", ids["deal"], {"tags": [ids["blue"]]}, version=1)  # someone else
    response = sam.post(f"/o/deal/{ids['deal']}", data={**form, "f-tags-present": "1",
                                                        "f-tags": [str(ids["red"])], "f-tags-text": ["red"]})
    doc = doc_of(response, 409)
    box = doc.xpath('//div[@data-field="tags"]')[0]
    assert [r.get("data-id") for r in box.xpath(".//tbody/tr")] == [str(ids["red"])]  # my input kept
    use = box.xpath('.//button[contains(@class, "cb-use-theirs")]')[0]
    assert [item["id"] for item in json.loads(use.get("data-raw"))] == [str(ids["blue"])]  # theirs, to take
    assert "blue" in box.xpath('.//*[contains(@class, "cb-theirs")]')[0].text_content()
    assert linked_ids(db, ids["deal"]) == [ids["blue"]]  # nothing overwritten


def test_a_field_rule_reading_the_multi_link_reaches_the_card_and_the_store(site):
    app, db, ids = site
    SchemaService(db).add_field(SYSTEM, "deal", {"name": "reason", "label": "Reason", "type": "string", "rules": {
        "required_when": {"field": "tags", "op": "has_any", "value": [ids["blue"]]}}})
    sam = client_for(app, "sam")
    doc = doc_of(sam.get(f"/o/deal/{ids['deal']}"))
    rules = json.loads(doc.xpath('//script[@id="cb-card-rules"]')[0].text)
    assert rules["rules"]["reason"]["required_when"] == {"field": "tags", "op": "has_any", "value": [ids["blue"]]}
    response = sam.post(f"/o/deal/{ids['deal']}", data={**card_form(doc), "f-tags-present": "1",
                                                        "f-tags": [str(ids["blue"])]})
    doc = doc_of(response, 422)
    assert "required" in field_error(doc, "reason")
    assert linked_ids(db, ids["deal"]) == [ids["red"], ids["green"]]

def test_xlsx_export_writes_the_names(site):
    app, _db, _ids = site
    response = client_for(app, "sam").get("/o/deal/export.xlsx?cols=title,tags")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    assert [[c.value for c in row] for row in sheet.iter_rows()] == [["Title", "Tags"], ["Big deal", "red, green"]]


def test_the_card_designer_places_it_and_the_table_designer_shows_it(site):
    from designer2_testlib import embedded_json, hidden

    app, db, ids = site
    root = client_for(app, "root")
    html = root.get("/designer/objects/deal/cards/new").get_data(as_text=True)
    assert "tags" in {f["name"] for f in embedded_json(html, "cb-card-data")["palette"]["fields"]}
    layout = {"tabs": [{"label": "", "sections": [{"label": "Main", "columns": 1, "items": [
        {"field": "title", "column": 1}, {"field": "tags", "column": 1, "label": "Labels"}]}]}]}
    response = root.post("/designer/objects/deal/cards/new",
                         data={"name": "Tagged", "layout": json.dumps(layout), "state": hidden(html, "state")})
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    doc = doc_of(client_for(app, "sam").get(f"/o/deal/{ids['deal']}"))  # the new default card
    assert doc.xpath('//label[@for="cb-f-tags"]')[0].text_content().strip().startswith("Labels")
    assert [r.get("data-id") for r in doc.xpath('//div[@data-field="tags"]//tbody/tr')] == \
        [str(ids["red"]), str(ids["green"])]
    html = root.get("/designer/objects/deal/table").get_data(as_text=True)
    assert "tags" in [f["path"] for f in embedded_json(html, "cb-table-data")["available"]]
    response = root.post("/designer/objects/deal/table", data={
        "state": hidden(html, "state"), "page_size": "25", "filter": "",
        "definition": json.dumps({"columns": [{"field": "title"}, {"field": "tags"}], "sort": []})})
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    doc = doc_of(client_for(app, "sam").get("/o/deal"))
    assert [" ".join(th.text_content().split()) for th in doc.xpath('//table[@id="cb-list-table"]/thead//th[@data-path]')] \
        == ["Title", "Tags"]
    refused = root.post("/designer/objects/deal/table", data={
        "state": hidden(root.get("/designer/objects/deal/table").get_data(as_text=True), "state"), "page_size": "25",
        "filter": "", "definition": json.dumps({"columns": [{"field": "title"}], "sort": [{"field": "tags", "desc": False}]})})
    assert "cannot be sorted" in refused.get_data(as_text=True)

# ---- a second fixture: organisations as a deal's partners, one of them in the trash ------------------
@pytest.fixture
def partners(db):
    svc, store = SchemaService(db), RecordStore(db)
    svc.create_object(SYSTEM, {"name": "organisation", "label": "Organisation", "label_plural": "Organisations",
                               "fields": [{"name": "name", "label": "Name", "type": "string", "required": True}]})
    svc.create_object(SYSTEM, {"name": "deal", "label": "Deal", "label_plural": "Deals", "fields": [
        {"name": "title", "label": "Title", "type": "string", "required": True},
        {"name": "partners", "label": "Partners", "type": "links", "options": {"target": "organisation"}}]})
    orgs = [store.create(SYSTEM, "organisation", {"name": n})["id"] for n in ("ACME", "Globex", "Initech")]
    deal = store.create(SYSTEM, "deal", {"title": "Big deal", "partners": [orgs[1], orgs[0], orgs[2]]})
    store.delete(SYSTEM, "organisation", orgs[2])
    users.create_user(db, "root", PASSWORD, is_admin=True)
    return create_app(TEST_CONFIG, db=db), store, orgs, deal["id"]


def text(response) -> str:
    assert response.status_code == 200, response.get_data(as_text=True)[-2000:]
    return response.get_data(as_text=True)


def test_card_and_list_show_the_linked_names_and_a_save_without_the_control_keeps_the_set(partners):
    app, store, orgs, deal = partners
    client = signed_in(app, "root", PASSWORD)
    card = text(client.get(f"/o/deal/{deal}"))
    rows = lxml.html.fromstring(card).xpath('//div[@data-field="partners"]//tr[contains(@class, "cb-multi-row")]//a')
    assert [(a.get("href"), a.text) for a in rows] == [(f"/o/organisation/{orgs[1]}", "Globex"),
                                                      (f"/o/organisation/{orgs[0]}", "ACME")]
    # Initech is in the trash: left out of the value (the history still names it)
    listing = text(client.get("/o/deal"))
    assert "Globex" in listing and "ACME" in listing
    version = re.search(r'name="_version" value="([^"]*)"', card).group(1)
    original = re.search(r'name="_original" value="([^"]*)"', card).group(1).replace("&#34;", '"') \
        .replace("&quot;", '"').replace("&amp;", "&")
    saved = client.post(f"/o/deal/{deal}", data={"_version": version, "_original": original,
                                                 "f-title": "Bigger deal"})
    assert saved.status_code in (302, 303), saved.get_data(as_text=True)[-2000:]
    record = store.get(SYSTEM, "deal", deal)
    assert record["title"] == "Bigger deal"
    assert [ref.id for ref in record["partners"]] == [orgs[1], orgs[0]]


def test_csv_and_xlsx_exports_write_the_names(partners):
    app, _store, _orgs, _deal = partners
    client = signed_in(app, "root", PASSWORD)
    assert "Globex, ACME" in text(client.get("/o/deal/export.csv"))
    response = client.get("/o/deal/export.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    rows = [[c for c in row] for row in sheet.iter_rows(values_only=True)]
    column = rows[0].index("Partners")
    assert rows[1][column] == "Globex, ACME"


def test_list_search_and_filter_with_a_multi_link(partners):
    app, _store, orgs, _deal = partners
    client = signed_in(app, "root", PASSWORD)
    assert "Big deal" in text(client.get("/o/deal?q=Big"))
    found = text(client.get("/o/deal", query_string={
        "filter": json.dumps({"field": "partners", "op": "has_any", "value": [orgs[0]]})}))
    none = text(client.get("/o/deal", query_string={
        "filter": json.dumps({"field": "partners", "op": "is_empty"})}))
    assert "Big deal" in found and "Big deal" not in none.split("<tbody", 1)[-1]


def test_card_history_names_the_linked_records(partners):
    app, store, orgs, deal = partners
    store.update(SYSTEM, "deal", deal, {"partners": [orgs[0]]}, version=1)
    client = signed_in(app, "root", PASSWORD)
    card = text(client.get(f"/o/deal/{deal}"))
    history = card[card.find('id="cb-tab-history"'):]
    # the update (Initech was in the trash by then), then the creation -- by name, not by id
    assert re.search(r'>Globex</a>, <a [^>]*>ACME</a></td><td aria-hidden="true">→</td><td><a [^>]*>ACME</a></td>',
                     history), history[:3000]
    assert re.search(r'→</td><td><a [^>]*>Globex</a>, <a [^>]*>ACME</a>, <a [^>]*>Initech</a></td>', history)


def test_the_link_picker_serves_a_multi_link(partners):
    app, _store, orgs, _deal = partners
    client = signed_in(app, "root", PASSWORD)
    response = client.get("/o/deal/links/partners?q=Glo")
    assert response.status_code == 200
    assert [(r["id"], r["display"]) for r in response.get_json()] == [(orgs[1], "Globex")]
