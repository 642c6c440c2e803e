"""Delete to the trash from the card, the trash view and restore (cards.delete,
cards.trash, cards.restore), with rights applied -- on both engines."""
from __future__ import annotations

import re

import pytest
from test_platform_web_cards import PASSWORD, TEST_CONFIG, build, client_for, html

from cardbase.platform.app import create_app
from cardbase.schema_engine import rights
from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.errors import NotFound
from cardbase.schema_engine.query.model import ListQuery
from cardbase.schema_engine.store.records import RecordStore


@pytest.fixture
def site(db):
    ids = build(db)
    return create_app(TEST_CONFIG, db=db), db, ids


def test_delete_moves_to_the_trash_and_restore_brings_it_back_with_its_lines(site):
    app, db, ids = site
    client = client_for(app, "sam")
    response = client.post(f"/o/deal/{ids['deal']}/delete", data={"_version": "1"})
    assert response.status_code == 302
    store = RecordStore(db)
    with pytest.raises(NotFound):
        store.get(SYSTEM, "deal", ids["deal"])
    with pytest.raises(NotFound):  # the lines went along (on delete: cascade)
        store.get(SYSTEM, "line", ids["line"])
    assert store.get(SYSTEM, "task", 1)["deal"] is None  # the task was unlinked (set_null)
    trash = html(client.get("/o/deal/trash"))
    assert re.search(r'<tr data-row="%d">' % ids["deal"], trash) and "Big deal" in trash and "cb-restore" in trash
    assert 'data-label="Deleted by">sam</td>' in trash and "LinkRef" not in trash
    response = client.post(f"/o/deal/{ids['deal']}/restore")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/o/deal/{ids['deal']}")
    assert store.get(SYSTEM, "deal", ids["deal"])["title"] == "Big deal"
    assert store.get(SYSTEM, "line", ids["line"])["deal"].id == ids["deal"]
    assert store.get(SYSTEM, "task", 1)["deal"].id == ids["deal"]
    assert 'id="cb-trash-empty"' in html(client.get("/o/deal/trash"))
    history = html(client.get(f"/o/deal/{ids['deal']}"))
    assert "moved to the trash" in history and "restored" in history


def test_a_stale_delete_is_refused_with_a_message(site):
    app, db, ids = site
    RecordStore(db).update(SYSTEM, "deal", ids["deal"], {"title": "Changed"}, version=1)
    client = client_for(app, "sam")
    response = client.post(f"/o/deal/{ids['deal']}/delete", data={"_version": "1"}, follow_redirects=True)
    assert "was changed by someone else" in html(response)
    assert RecordStore(db).get(SYSTEM, "deal", ids["deal"])["version"] == 2


def test_a_delete_the_links_forbid_names_the_blocking_records(site):
    app, db, ids = site
    client = client_for(app, "sam")
    response = client.post(f"/o/organisation/{ids['acme']}/delete", data={"_version": "1"}, follow_redirects=True)
    assert "cannot be deleted while records link to it" in html(response)
    assert RecordStore(db).get(SYSTEM, "organisation", ids["acme"])["name"] == "ACME"


def test_readers_see_the_trash_but_cannot_delete_or_restore(site):
    app, db, ids = site
    RecordStore(db).delete(SYSTEM, "task", 1)
    reader = client_for(app, "reader")
    page = html(reader.get("/o/task/trash"))
    assert "Call them" in page and "cb-restore" not in page
    response = reader.post("/o/task/1/restore", follow_redirects=True)
    assert "you may not delete" in html(response)
    assert RecordStore(db).list(SYSTEM, "task", ListQuery(trash=True)).data[0]["id"] == 1
    rights.admin.set_object_rights(db, SYSTEM, "Readers", "task", [])
    assert reader.get("/o/task/trash").status_code == 403


def test_the_trash_lists_only_records_the_user_may_see(site):
    app, db, ids = site
    from cardbase.platform import users
    from cardbase.platform.context import actor_for

    store = RecordStore(db)
    sam = actor_for(users.find_user(db, "sam"), db)
    mine = store.create(sam, "organisation", {"name": "Sam's org"})
    theirs = store.create(SYSTEM, "organisation", {"name": "Not for Sam"})
    store.delete(sam, "organisation", mine["id"])
    store.delete(SYSTEM, "organisation", theirs["id"])
    rights.admin.set_access_mode(db, SYSTEM, "organisation", "own_and_shared")
    client = client_for(app, "sam")
    page = html(client.get("/o/organisation/trash"))
    assert "Sam&#39;s org" in page and "Not for Sam" not in page
    # restoring a record the user cannot see is refused, and changes nothing
    response = client.post(f"/o/organisation/{theirs['id']}/restore", follow_redirects=True)
    assert "there is no" in html(response)
    assert store.list(SYSTEM, "organisation", ListQuery(trash=True)).count == 2
    assert PASSWORD not in page
