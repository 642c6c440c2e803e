"""Issue 14, point 7: a record's history shows link targets by their display names
("ACME" -> "Hidden Corp"), not as "Organisation #1" -- read through the reader's rights
(a target they may not see stays "restricted"; a trashed one keeps its name), in one
query per target object."""
from __future__ import annotations

from cardbase.schema_engine import rights
from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.store.records import RecordStore

from test_platform_web_cards import client_for, doc_of, history_entries, site  # noqa: F401 (fixture)


def _move_deal(db, ids) -> int:
    store = RecordStore(db)
    other = store.create(SYSTEM, "organisation", {"name": "Zenith Ltd"})
    store.update(SYSTEM, "deal", ids["deal"], {"organisation": other["id"]}, version=1)
    return other["id"]


def test_history_names_link_targets(site):  # noqa: F811
    app, db, ids = site
    _move_deal(db, ids)
    entries = history_entries(doc_of(client_for(app, "sam").get(f"/o/deal/{ids['deal']}")))
    assert entries[0]["changes"] == [("Organisation", "ACME", "Zenith Ltd")]
    page = client_for(app, "sam").get(f"/o/deal/{ids['deal']}").get_data(as_text=True)
    history = page[page.index('id="cb-tab-history"'):]
    assert "#" + str(ids["acme"]) not in history.split("cb-history-entry")[1]


def test_a_trashed_target_keeps_its_name_and_an_unreadable_one_is_restricted(site):  # noqa: F811
    app, db, ids = site
    zenith = _move_deal(db, ids)
    store = RecordStore(db)
    store.update(SYSTEM, "deal", ids["deal"], {"organisation": ids["acme"]}, version=2)  # and back
    store.delete(SYSTEM, "organisation", zenith)  # then Zenith goes to the trash
    entries = history_entries(doc_of(client_for(app, "sam").get(f"/o/deal/{ids['deal']}")))
    assert [e["changes"] for e in entries[:2]] == [[("Organisation", "Zenith Ltd", "ACME")],
                                                   [("Organisation", "ACME", "Zenith Ltd")]]
    rights.admin.set_object_rights(db, SYSTEM, "Sales", "organisation", [])
    entries = history_entries(doc_of(client_for(app, "sam").get(f"/o/deal/{ids['deal']}")))
    assert entries[0]["changes"] == [("Organisation", "restricted", "restricted")]
    assert "ACME" not in client_for(app, "sam").get(f"/o/deal/{ids['deal']}").get_data(as_text=True)
