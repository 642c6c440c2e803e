"""Issue 14, point 9: '+ New' inside a link picker. The picker offers it when the user may
create (and read) records of the link's target; the new card keeps ?pick= in its form and,
once the record is created, answers a page that hands {id, display} to the card that
opened it instead of redirecting; an id that is no element id is ignored; a refused
create shows the form again as usual."""
from __future__ import annotations

import json

import lxml.html

from cardbase.schema_engine import rights
from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.store.records import RecordStore

from test_platform_web_cards import client_for, html, site  # noqa: F401 (fixture)


def new_links(page: str) -> dict[str, str]:
    doc = lxml.html.fromstring(page)
    return {a.get("data-pick"): a.get("href") for a in doc.xpath('//a[contains(@class, "cb-link-new")]')}


def test_the_picker_offers_new_when_the_target_may_be_created(site):  # noqa: F811
    app, db, ids = site
    page = html(client_for(app, "sam").get(f"/o/deal/{ids['deal']}"))
    assert new_links(page).get("cb-f-organisation") == "/o/organisation/new?pick=cb-f-organisation"
    rights.admin.set_object_rights(db, SYSTEM, "Sales", "organisation", ["read"])  # may not create organisations
    page = html(client_for(app, "sam").get(f"/o/deal/{ids['deal']}"))
    assert "cb-f-organisation" not in new_links(page)
    assert "cb-f-organisation" not in new_links(html(client_for(app, "reader").get(f"/o/deal/{ids['deal']}")))


def test_creating_from_the_picker_hands_the_record_back(site):  # noqa: F811
    app, db, _ids = site
    sam = client_for(app, "sam")
    form_page = html(sam.get("/o/organisation/new?pick=cb-f-organisation"))
    action = lxml.html.fromstring(form_page).xpath('//form[@id="cb-card-form"]')[0].get("action")
    assert action == "/o/organisation/new?pick=cb-f-organisation"
    response = sam.post(action, data={"f-name": "Zenith Ltd"})
    assert response.status_code == 200, html(response)[-2000:]
    doc = lxml.html.fromstring(html(response))
    data = json.loads(doc.xpath('//script[@id="cb-picked-data"]')[0].text)
    created = next(r for r in RecordStore(db).list(SYSTEM, "organisation").data if r["name"] == "Zenith Ltd")
    assert data == {"type": "cardbase-picked", "pick": "cb-f-organisation", "id": created["id"], "display": "Zenith Ltd"}
    assert doc.xpath(f'//a[@href="/o/organisation/{created["id"]}"]')  # and a link to it without script


def test_a_refused_create_or_a_strange_pick_behaves_as_usual(site):  # noqa: F811
    app, db, _ids = site
    sam = client_for(app, "sam")
    refused = sam.post("/o/organisation/new?pick=cb-f-organisation", data={"f-name": ""})
    assert refused.status_code == 422 and "cb-picked-data" not in html(refused)
    strange = sam.post('/o/organisation/new?pick="><script>', data={"f-name": "Odd Ltd"})
    assert strange.status_code == 302 and "/o/organisation/" in strange.headers["Location"]  # a normal create
