"""The Share dialog on the card (issue 13, point 7): share with a user or a group at read,
change or full, see and revoke shares, change the owner -- gated by the same rights as the
API; sharing above one's own level is refused with a clear message and changes nothing."""
from __future__ import annotations

import sqlalchemy as sa
from test_platform_web_cards import client_for, html, site  # noqa: F401  (the fixture)

from cardbase.platform import users
from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.rights.models import Share
from cardbase.schema_engine.store.records import RecordStore


def shares(db) -> list[tuple]:
    with db.read() as conn:
        return sorted(map(tuple, conn.execute(sa.select(Share.record_id, Share.user_id, Share.group_id,
                                                        Share.level)).all()), key=repr)


def test_share_revoke_and_change_owner_from_the_card(site):  # noqa: F811
    app, db, ids = site
    sam = client_for(app, "sam")
    deal = ids["deal"]
    page = html(sam.get(f"/o/deal/{deal}"))
    assert 'id="cb-share-dialog"' in page and "Not shared with anyone." in page
    assert '<option value="full">' in page  # sam holds full access through Sales
    users.create_user(db, "tess", "blue-pine-4040")
    users.add_member(db, SYSTEM, "tess", "Sales")  # hides the same field as sam: nothing revealed
    reader_id = users.find_user(db, "tess").id
    readers = next(g["id"] for g in users.list_groups(db) if g["name"] == "Sales")
    revealing = sam.post(f"/o/deal/{deal}/share", data={"grantee": f"user:{users.find_user(db, 'reader').id}",
                                                        "level": "read"}, follow_redirects=True)
    assert "they would read 1 field(s) hidden from you" in html(revealing)
    assert sam.post(f"/o/deal/{deal}/share", data={"grantee": f"user:{reader_id}", "level": "change"}).status_code == 302
    assert sam.post(f"/o/deal/{deal}/share", data={"grantee": f"group:{readers}", "level": "read"}).status_code == 302
    assert shares(db) == sorted([(deal, reader_id, None, "change"), (deal, None, readers, "read")], key=repr)
    page = html(sam.get(f"/o/deal/{deal}"))
    assert 'data-share="tess"' in page and 'data-share="Sales"' in page
    assert sam.post(f"/o/deal/{deal}/unshare", data={"grantee": f"group:{readers}"}).status_code == 302
    assert shares(db) == [(deal, reader_id, None, "change")]
    sam_id = users.find_user(db, "sam").id
    assert sam.post(f"/o/deal/{deal}/owner", data={"owner": str(sam_id)}).status_code == 302
    assert RecordStore(db).get(SYSTEM, "deal", deal)["owner"].id == sam_id


def test_sharing_above_ones_own_level_is_refused_and_changes_nothing(site):  # noqa: F811
    app, db, ids = site
    reader = client_for(app, "reader")  # Readers: read only
    deal = ids["deal"]
    page = html(reader.get(f"/o/deal/{deal}"))
    assert '<option value="read">' in page and '<option value="change">' not in page
    assert 'id="cb-owner-form"' not in page  # giving it away needs full access
    sam_id = users.find_user(db, "sam").id
    refused = reader.post(f"/o/deal/{deal}/share", data={"grantee": f"user:{sam_id}", "level": "full"},
                          follow_redirects=True)
    assert "Not shared: you hold read on this &#39;Deal&#39; record and cannot share it at full" in html(refused)
    owner = reader.post(f"/o/deal/{deal}/owner", data={"owner": str(sam_id)}, follow_redirects=True)
    assert "The owner was not changed" in html(owner)
    nobody = reader.post(f"/o/deal/{deal}/share", data={"grantee": "nobody", "level": "read"}, follow_redirects=True)
    assert "Choose a user or a group to share with." in html(nobody)
    assert shares(db) == []
    assert RecordStore(db).get(SYSTEM, "deal", deal)["owner"] is None
