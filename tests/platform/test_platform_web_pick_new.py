"""Issue 14, point 9: '+ New' inside a link picker. The picker offers it when the user may
create (and read) records of the link's target; the new card keeps ?pick= in its form and,
once the record is created, answers a page that hands {id, display} to the card that
opened it instead of redirecting; an id that is no element id is ignored; a refused
create shows the form again as usual. "+ New" is not offered when the new record would
surely be unreadable (record scope "none"); one that turns out unreadable (a rule view it
does not match) is not handed back, and the window says why."""
from __future__ import annotations

import json

import lxml.html

from cardbase.platform import users
from cardbase.platform.context import actor_for
from cardbase.schema_engine import rights
from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.rights.scopes import set_record_scope
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


# ---- a new record the user would not see (polish of issue 14, point 9) ----------------------------

def _scope(db, scope: str) -> None:
    set_record_scope(db, SYSTEM, "Sales", "organisation", scope)


def _berlin_only(db) -> None:
    """A rule view of Sales on organisations: those named like Berlin."""
    rights.save_rule_view(db, SYSTEM, "Sales", "organisation", "Berlin only",
                          {"field": "name", "op": "contains", "value": "Berlin"})


def test_the_session_knows_whether_a_new_record_would_be_readable(site):  # noqa: F811
    app, db, _ids = site
    _berlin_only(db)
    expected = {"all": True, "own_and_shared": True, "none": False, "rule_views": None}
    for scope, readable in expected.items():
        _scope(db, scope)
        with RecordStore(db).session(actor_for(users.find_user(db, "sam"), db)) as s:
            assert s.new_record_readable("organisation") is readable, scope
    with RecordStore(db).session(SYSTEM) as s:
        assert s.new_record_readable("organisation") is True


def test_no_new_in_the_picker_when_the_new_record_would_be_unreadable(site):  # noqa: F811
    app, db, ids = site
    _scope(db, "none")  # Sales may still create organisations, but sees none of them
    page = html(client_for(app, "sam").get(f"/o/deal/{ids['deal']}"))
    assert "cb-f-organisation" not in new_links(page)
    assert 'id="cb-f-organisation"' in page  # the picker itself stays
    _scope(db, "own_and_shared")  # a new record is one's own: offered again
    assert "cb-f-organisation" in new_links(html(client_for(app, "sam").get(f"/o/deal/{ids['deal']}")))


def test_a_created_record_out_of_sight_is_not_handed_back_and_says_so(site):  # noqa: F811
    """Scope "rule_views": the rule view decides by the values, so "+ New" is offered; a new
    record it does not match is created, and the window says it cannot be chosen."""
    app, db, ids = site
    _scope(db, "rule_views")
    _berlin_only(db)
    sam = client_for(app, "sam")
    assert "cb-f-organisation" in new_links(html(sam.get(f"/o/deal/{ids['deal']}")))
    hidden = sam.post("/o/organisation/new?pick=cb-f-organisation", data={"f-name": "Hamburg GmbH"})
    page = html(hidden)
    assert hidden.status_code == 200 and "cb-picked-data" not in page and "picked.js" not in page
    assert "was created." in page and "You cannot see it under your rights, so it cannot be chosen here." in page
    assert "Hamburg GmbH" not in page  # named by object and code only
    created = [r for r in RecordStore(db).list(SYSTEM, "organisation").data if r["name"] == "Hamburg GmbH"]
    assert len(created) == 1  # created all the same
    seen = sam.post("/o/organisation/new?pick=cb-f-organisation", data={"f-name": "Berlin AG"})
    data = json.loads(lxml.html.fromstring(html(seen)).xpath('//script[@id="cb-picked-data"]')[0].text)
    assert data["display"] == "Berlin AG"  # one the rule view matches is handed back as before


def test_posting_past_the_hidden_new_under_scope_none_says_so_in_german(site):  # noqa: F811
    app, db, _ids = site
    _scope(db, "none")
    users.update_user(db, SYSTEM, "sam", language="de")
    page = html(client_for(app, "sam").post("/o/organisation/new?pick=cb-f-organisation", data={"f-name": "Nowhere"}))
    assert "cb-picked-data" not in page
    assert "Sie können ihn mit Ihren Rechten nicht sehen, daher kann er hier nicht ausgewählt werden." in page
