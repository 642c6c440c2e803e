"""Undo notices on the end-user web: a save, a delete and a board move leave a notice with
an Undo button (a CSRF-protected POST to /actions/<id>/undo); undo puts the old values
back, and an undo that would overwrite a later change is refused with the engine's
message and changes nothing."""
from __future__ import annotations

import re

import lxml.html
import pytest

from test_platform_web_cards import PASSWORD, TEST_CONFIG, build, form_of

from cardbase.platform.app import create_app
from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.store.records import RecordStore


@pytest.fixture
def site(db):
    ids = build(db)
    return create_app(TEST_CONFIG, db=db), db, ids


def client_for(app, username: str = "sam"):
    client = app.test_client()
    assert client.post("/login", data={"username": username, "password": PASSWORD}).status_code == 302
    return client


def undo_form(page: str) -> tuple[str, str]:
    """(action URL, next) of the flashed notice's Undo form (a board also has a hidden one
    its script fills after a move)."""
    doc = lxml.html.fromstring(page)
    forms = doc.xpath('//*[contains(concat(" ", @class, " "), " cb-undo ")]'
                      '[contains(concat(" ", @class, " "), " flash ")]//form')
    assert len(forms) == 1, page[-3000:]
    form = forms[0]
    assert form.get("method") == "post" and form.xpath('.//input[@name="csrf_token"]')
    assert form.xpath(".//button")[0].text_content().strip() == "Undo"
    return form.get("action"), form.xpath('.//input[@name="next"]')[0].get("value")


def save_title(client, deal_id: int, title: str):
    page = client.get(f"/o/deal/{deal_id}").get_data(as_text=True)
    return client.post(f"/o/deal/{deal_id}", data={"f-title": title, **form_of(page)})


def title_of(db, deal_id: int) -> str:
    return RecordStore(db).get(SYSTEM, "deal", deal_id)["title"]


def test_undo_after_a_save_puts_the_old_value_back(site):
    app, db, ids = site
    client = client_for(app)
    response = save_title(client, ids["deal"], "Bigger deal")
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Saved." in page
    url, back = undo_form(page)
    assert re.fullmatch(r"/actions/\d+/undo", url) and back == f"/o/deal/{ids['deal']}"
    assert title_of(db, ids["deal"]) == "Bigger deal"

    response = client.post(url, data={"next": back})
    assert response.status_code == 302 and response.headers["Location"] == back
    page = client.get(back).get_data(as_text=True)
    assert "Undone." in page
    assert title_of(db, ids["deal"]) == "Big deal"
    assert 'value="Big deal"' in page


def test_undo_of_a_record_changed_since_is_refused_and_changes_nothing(site):
    app, db, ids = site
    client = client_for(app)
    response = save_title(client, ids["deal"], "Bigger deal")
    url, back = undo_form(client.get(response.headers["Location"]).get_data(as_text=True))
    current = RecordStore(db).get(SYSTEM, "deal", ids["deal"])
    RecordStore(db).update(SYSTEM, "deal", ids["deal"], {"title": "Someone else's"}, version=current["version"])

    response = client.post(url, data={"next": back})
    assert response.status_code == 302
    page = client.get(back).get_data(as_text=True)
    message = lxml.html.fromstring(page).xpath('//*[contains(concat(" ", @class, " "), " alert-danger ")]')
    assert message, page[-2000:]
    text = " ".join(message[0].text_content().split())
    assert text.startswith("Not undone:") and "changed since this action" in text and "nothing was undone" in text
    assert title_of(db, ids["deal"]) == "Someone else's"


def test_undo_of_a_delete_restores_the_record(site):
    app, db, ids = site
    client = client_for(app)
    page = client.get(f"/o/deal/{ids['deal']}").get_data(as_text=True)
    response = client.post(f"/o/deal/{ids['deal']}/delete", data={"_version": form_of(page)["_version"]})
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "was moved to the trash." in page
    url, back = undo_form(page)
    assert client.get(f"/o/deal/{ids['deal']}").status_code == 404
    assert client.post(url, data={"next": back}).status_code == 302
    assert client.get(back).status_code == 200
    assert title_of(db, ids["deal"]) == "Big deal"


def test_a_board_move_offers_undo_by_json_and_by_form(site):
    app, db, ids = site
    client = client_for(app)
    version = RecordStore(db).get(SYSTEM, "deal", ids["deal"])["version"]
    response = client.post("/o/deal/board/stage/move", json={"id": ids["deal"], "version": version, "value": "won"})
    body = response.get_json()
    assert response.status_code == 200 and body["ok"], body
    assert re.fullmatch(r"/actions/\d+/undo", body["undo_url"]) and body["undo_next"] == "/o/deal/board/stage"
    assert RecordStore(db).get(SYSTEM, "deal", ids["deal"])["stage"] == "won"
    assert client.post(body["undo_url"], data={"next": body["undo_next"]}).status_code == 302
    assert RecordStore(db).get(SYSTEM, "deal", ids["deal"])["stage"] == "lead"

    version = RecordStore(db).get(SYSTEM, "deal", ids["deal"])["version"]
    response = client.post("/o/deal/board/stage/move", data={"id": ids["deal"], "version": version, "value": "won"})
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    url, back = undo_form(page)
    assert back == "/o/deal/board/stage", page[page.find("<main"):][:3000]
    client.post(url, data={"next": back})
    assert RecordStore(db).get(SYSTEM, "deal", ids["deal"])["stage"] == "lead"


def test_undo_is_only_for_ones_own_actions_and_goes_back_to_local_pages_only(site):
    app, db, ids = site
    sam = client_for(app)
    response = save_title(sam, ids["deal"], "Bigger deal")
    url, _back = undo_form(sam.get(response.headers["Location"]).get_data(as_text=True))
    root = client_for(app, "root")
    response = root.post(url, data={"next": "https://evil.example/"})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    page = root.get("/").get_data(as_text=True)
    assert "Not undone:" in page and "someone else" in page
    assert title_of(db, ids["deal"]) == "Bigger deal"


def test_the_undo_form_needs_its_csrf_token(site):
    app, db, ids = site
    sam = client_for(app)
    response = save_title(sam, ids["deal"], "Bigger deal")
    url, back = undo_form(sam.get(response.headers["Location"]).get_data(as_text=True))
    app.config["WTF_CSRF_ENABLED"] = True
    response = sam.post(url, data={"next": back})
    assert response.status_code == 400
    assert title_of(db, ids["deal"]) == "Bigger deal"
