"""Bulk changes from the end-user list (web/bulk.py) through the Flask test client: tick
rows, set one field for all of them (one bulk_write = one action, undone by the notice's
Undo), or move them to the trash (undone together); a stale version, a bad value or a
field the user may not write changes nothing and names each failing record; users who
may neither edit nor delete see no tick boxes, and a forged post is refused."""
from __future__ import annotations

import re

import lxml.html
import pytest

from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.store.records import RecordStore

from test_platform_web_lists import client_for, list_app, page_of

LIST = "/o/deal?sort=title"


@pytest.fixture
def app(db):
    return list_app(db)


def ticks(body: str) -> dict[str, str]:
    """code -> the "id:version" a row's tick box posts."""
    doc = lxml.html.fromstring(body)
    out = {}
    for box in doc.xpath('//input[contains(@class, "cb-row-select")]'):
        assert box.get("form") == "cb-bulk-form" and box.get("name") == "r"
        out[box.get("aria-label").removeprefix("Select ")] = box.get("value")
    return out


def deals(db) -> dict[str, dict]:
    page = RecordStore(db).list(SYSTEM, "deal")
    return {r["code"]: r for r in page.data}


def post_bulk(client, values: list[str], **form):
    return client.post("/o/deal/bulk", data={"r": values, "next": LIST, **form})


def follow(client, response) -> str:
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    assert response.headers["Location"] == LIST
    return page_of(client, LIST)


def notice(body: str) -> tuple[str, str, str]:
    """(text, Undo form's action, its next) of the flashed undo notice."""
    doc = lxml.html.fromstring(body)
    boxes = doc.xpath('//*[contains(concat(" ", @class, " "), " cb-undo ")]')
    assert len(boxes) == 1, body[-3000:]
    form = boxes[0].xpath(".//form")[0]
    return (boxes[0].xpath('.//*[@class="cb-undo-text"]')[0].text_content().strip(), form.get("action"),
            form.xpath('.//input[@name="next"]')[0].get("value"))


def danger(body: str) -> str:
    doc = lxml.html.fromstring(body)
    return " ".join(" ".join(el.text_content().split()) for el in doc.xpath('//div[contains(@class, "alert-danger")]'))


def test_the_toolbar_offers_only_fields_the_user_may_write(app):
    body = page_of(client_for(app, "sam"), LIST)
    doc = lxml.html.fromstring(body)
    form = doc.get_element_by_id("cb-bulk-form")
    assert form.get("method") == "post" and form.xpath('.//input[@name="csrf_token"]')
    assert form.xpath('.//input[@name="next"]')[0].get("value") == LIST
    offered = form.xpath('.//select[@id="cb-bulk-field"]/option/@value')
    assert "stage" in offered and "title" in offered and "organisation" in offered
    assert "secret_note" not in offered and "total" not in offered  # hidden field, formula
    assert form.xpath('.//label[@for="cb-bulk-v-stage"]') and form.xpath('.//select[@name="v-stage"]')
    assert form.xpath('.//button[@value="trash"]') and form.xpath('.//button[@value="change"]')
    assert doc.xpath('//input[@id="cb-select-all"]/@aria-label') == ["Select all on this page"]
    assert len(ticks(body)) == 7


def test_bulk_change_of_three_deals_is_one_action_and_undo_restores_all(app, db):
    client = client_for(app, "sam")
    boxes = ticks(page_of(client, LIST))
    before = deals(db)
    chosen = [c for c in sorted(before) if before[c]["stage"] == "lead"][:3]
    assert len(chosen) == 3
    body = follow(client, post_bulk(client, [boxes[c] for c in chosen], op="change", field="stage", **{"v-stage": "won"}))
    text, url, back = notice(body)
    assert text == "3 records changed." and re.fullmatch(r"/actions/\d+/undo", url) and back == LIST
    after = deals(db)
    assert [after[c]["stage"] for c in chosen] == ["won"] * 3
    assert all(after[c]["version"] == before[c]["version"] + 1 for c in chosen)

    response = client.post(url, data={"next": back})
    assert "Undone." in follow(client, response)
    undone = deals(db)
    assert [undone[c]["stage"] for c in chosen] == ["lead"] * 3
    assert {c: undone[c]["stage"] for c in undone} == {c: before[c]["stage"] for c in before}


def test_a_stale_version_is_a_conflict_naming_the_record_and_nothing_changes(app, db):
    client = client_for(app, "sam")
    boxes = ticks(page_of(client, LIST))
    codes = sorted(boxes)[:3]
    before = deals(db)
    store = RecordStore(db)
    store.update(SYSTEM, "deal", before[codes[1]]["id"], {"title": "Changed meanwhile"},
                 version=before[codes[1]]["version"])
    body = follow(client, post_bulk(client, [boxes[c] for c in codes], op="change", field="amount",
                                    **{"v-amount": "999"}))
    message = danger(body)
    assert "Nothing was changed: 1 of 3 records cannot be changed." in message
    assert f"{codes[1]} was changed by someone else since the list was shown" in message
    assert codes[0] not in message and codes[2] not in message
    after = deals(db)
    assert [after[c]["amount"] for c in codes] == [before[c]["amount"] for c in codes]
    assert "cb-undo" not in body


def test_per_row_errors_name_each_record_and_field(app, db):
    client = client_for(app, "sam")
    boxes = ticks(page_of(client, LIST))
    codes = sorted(boxes)[:2]
    body = follow(client, post_bulk(client, [boxes[c] for c in codes], op="change", field="title", **{"v-title": ""}))
    message = danger(body)
    assert "2 of 2 records cannot be changed" in message
    for code in codes:
        assert f"{code} – Title:" in message
    assert [deals(db)[c]["title"] for c in codes] == ["Deal 000", "Deal 001"]
    # a value the field type cannot read is refused before any record is touched
    body = follow(client, post_bulk(client, [boxes[c] for c in codes], op="change", field="probability",
                                    **{"v-probability": "many"}))
    assert "Nothing was changed. Probability:" in danger(body)


def test_a_field_the_user_may_not_write_is_refused(app, db):
    client = client_for(app, "sam")
    boxes = ticks(page_of(client, LIST))
    codes = sorted(boxes)[:2]
    for field in ("secret_note", "total", "nonsense", "version"):
        response = post_bulk(client, [boxes[c] for c in codes], op="change", field=field, **{f"v-{field}": "x"})
        assert response.status_code == 403, field
    assert {r["secret_note"] for r in deals(db).values()} == {"TOP-SECRET"}


def test_users_who_may_not_edit_see_no_tick_boxes_and_a_forged_post_is_refused(app, db):
    kim = client_for(app, "kim")  # reads organisations only
    body = page_of(kim, "/o/organisation")
    assert "cb-bulk-form" not in body and "cb-row-select" not in body and "cb-select-all" not in body
    orgs = RecordStore(db).list(SYSTEM, "organisation").data
    for op in ("change", "trash"):
        response = kim.post("/o/organisation/bulk", data={"r": [f"{orgs[0]['id']}:{orgs[0]['version']}"], "op": op,
                                                          "field": "name", "v-name": "Forged"})
        assert response.status_code == 403, op
    assert [o["name"] for o in RecordStore(db).list(SYSTEM, "organisation").data] == ["Acme", "Beta", "Gamma"]


def test_bulk_trash_then_undo_restores_them_all(app, db):
    client = client_for(app, "sam")
    boxes = ticks(page_of(client, LIST))
    codes = sorted(boxes)[:3]
    body = follow(client, post_bulk(client, [boxes[c] for c in codes], op="trash"))
    text, url, back = notice(body)
    assert text == "3 records moved to the trash." and back == LIST
    assert set(deals(db)) == set(boxes) - set(codes)
    assert sorted(ticks(body)) == sorted(set(boxes) - set(codes))

    body = follow(client, client.post(url, data={"next": back}))
    assert "Undone." in body
    assert set(deals(db)) == set(boxes)
    assert len(ticks(body)) == 7


def test_bulk_trash_is_all_or_nothing(app, db):
    client = client_for(app, "sam")
    boxes = ticks(page_of(client, LIST))
    codes = sorted(boxes)[:3]
    record = deals(db)[codes[2]]
    RecordStore(db).update(SYSTEM, "deal", record["id"], {"title": "Changed"}, version=record["version"])
    body = follow(client, post_bulk(client, [boxes[c] for c in codes], op="trash"))
    message = danger(body)
    assert "Nothing was moved to the trash: 1 of 3 records cannot be deleted." in message
    assert f"{codes[2]} was changed by someone else" in message
    assert set(deals(db)) == set(boxes)


@pytest.mark.parametrize("values, words", [
    ([], "select at least one record first"),
    ([f"{i}:1" for i in range(1, 1002)], "at most 1,000 records can be changed at once, and 1,001 were selected"),
    (["1; drop table"], "is not a record of this list"),
])
def test_bad_selections_are_refused_clearly(app, db, values, words):
    client = client_for(app, "sam")
    body = follow(client, post_bulk(client, values, op="change", field="stage", **{"v-stage": "won"}))
    assert words in danger(body)
    assert {r["stage"] for r in deals(db).values()} == {"lead", "won"}
