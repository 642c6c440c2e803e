"""Issue 18, points 5 (notifications) and 6: comments with @mentions, the bell's unread
count and mark as read, and the activity feed of history and comments."""
from __future__ import annotations

import pytest
from automation_testlib import actor, crm, sales_group

from cardbase.automation import comments, notifications
from cardbase.schema_engine.errors import Forbidden, NotFound, ValidationError


@pytest.fixture
def setup(db):
    store = crm(db)
    sales_group(db)
    root, sam, kim = actor(db, "root"), actor(db, "sam"), actor(db, "kim")
    deal = store.create(sam, "deal", {"title": "Mentioned deal"})
    return store, root, sam, kim, deal


def test_a_mention_notifies_a_reader_and_never_someone_who_may_not_read_the_record(db, setup):
    store, root, sam, kim, deal = setup
    with store.session(sam, write=True) as tx:
        made = comments.add(tx, "deal", deal["id"], "@root please look, and @kim too; mail me at sam@example.com @nobody")
    assert made["mentions"] == [root.user_id]  # kim may not read deals: not told; unknown names are text
    with store.session(root, write=True) as tx:
        assert notifications.unread_count(tx.conn, root.user_id) == 1
        [note] = notifications.list_for(tx.conn, root.user_id)
        assert note["kind"] == "mention" and "sam mentioned you" in note["text"] and note["record_id"] == deal["id"]
        assert notifications.unread_count(tx.conn, kim.user_id) == 0
        assert notifications.mark_read(tx.conn, root.user_id, [note["id"]]) == 1
        assert notifications.unread_count(tx.conn, root.user_id) == 0
        with pytest.raises(ValidationError) as bad:
            notifications.mark_read(tx.conn, root.user_id, "all of them")
        assert "ids" in bad.value.errors


def test_comments_need_the_right_to_read_the_record_and_a_body(db, setup):
    store, root, sam, kim, deal = setup
    with store.session(kim, write=True) as tx, pytest.raises(Forbidden):
        comments.add(tx, "deal", deal["id"], "let me in")
    with store.session(sam, write=True) as tx:
        for body, problem in [("", "is required"), ("   ", "is required"), (None, "is required"),
                              ("x" * 10_001, "at most 10000 characters")]:
            with pytest.raises(ValidationError) as bad:
                comments.add(tx, "deal", deal["id"], body)
            assert problem in bad.value.errors["body"][0]
        with pytest.raises(NotFound):
            comments.add(tx, "deal", 999999, "no such record")


def test_only_the_author_or_an_admin_deletes_a_comment(db, setup):
    store, root, sam, kim, deal = setup
    with store.session(root, write=True) as tx:
        by_root = comments.add(tx, "deal", deal["id"], "admin note")
    with store.session(sam, write=True) as tx:
        own = comments.add(tx, "deal", deal["id"], "mine")
        with pytest.raises(Forbidden):
            comments.delete(tx, "deal", deal["id"], by_root["id"])
        comments.delete(tx, "deal", deal["id"], own["id"])
        assert [c["body"] for c in comments.list_for(tx, "deal", deal["id"])] == ["admin note"]


def test_the_activity_feed_merges_history_and_comments_newest_first(db, setup):
    store, root, sam, kim, deal = setup
    with store.session(sam, write=True) as tx:
        comments.add(tx, "deal", deal["id"], "first call done")
    updated = store.update(sam, "deal", deal["id"], {"stage": "review"}, version=deal["version"])
    with store.session(sam, write=True) as tx:
        comments.add(tx, "deal", deal["id"], "sent the offer")
        feed = comments.activity(tx, "deal", updated["id"])
    assert [(item["kind"], item.get("body") or item.get("action")) for item in feed] == [
        ("comment", "sent the offer"), ("change", "update"), ("comment", "first call done"), ("change", "create")]
    assert feed[1]["changes"][0]["field"] == "stage" and feed[0]["actor"] == "Sam"
