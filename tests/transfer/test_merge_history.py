"""A merge moves the merged records' history to the survivor (its history shows what happened
to them; the action names where they came from) and undo puts every row back exactly."""
from __future__ import annotations

import sqlalchemy as sa

from cardbase.schema_engine.meta_models import ActionRow, HistoryEntry
from cardbase.transfer.merge import merge
from transfer_fixture import world

_h = HistoryEntry.__table__


def _rows(db, obj_id: int) -> list[tuple]:
    with db.read() as conn:
        return [tuple(r) for r in conn.execute(sa.select(_h.c.id, _h.c.record_id, _h.c.action, _h.c.version, _h.c.changes)
                                                   .where(_h.c.object_id == obj_id).order_by(_h.c.id))]


def test_merge_moves_history_to_the_survivor_and_undo_puts_it_back(db):
    _svc, store, who = world(db)
    with store.session(who, write=True) as s:
        a = s.create("organisation", {"name": "ACME", "city": "Berlin"})
        b = s.create("organisation", {"name": "Acme", "city": "Bonn"})
        s.update("organisation", b["id"], {"city": "Köln"}, version=b["version"])
    org = db.schema().object("organisation")
    before = _rows(db, org.id)
    b_rows = [r for r in before if r[1] == b["id"]]
    assert [r[2] for r in b_rows] == ["create", "update"]
    with store.session(who, write=True) as s:
        result = merge(s, "organisation", a["id"], [b["id"]])
        action = s.last.action_id
    assert result["history_moved"] == 2
    with store.session(who) as s:
        shown = s.history("organisation", a["id"])
    moved_ids = {r[0] for r in b_rows}
    assert moved_ids <= {e["id"] for e in shown}  # the survivor's history shows the merged record's
    after = {r[0]: r for r in _rows(db, org.id)}
    for row in b_rows:  # re-pointed, nothing else changed
        assert after[row[0]][1] == a["id"] and after[row[0]][2:] == row[2:]
    with db.read() as conn:
        summary = conn.execute(sa.select(ActionRow.summary).where(ActionRow.id == action)).scalar_one()
    assert summary["history_from"] == {str(b["id"]): b["code"]}
    with store.session(who, write=True) as s:
        s.undo(action)
    restored = {r[0]: r for r in _rows(db, org.id)}
    assert [restored[r[0]] for r in before] == before  # every earlier row exactly as it was
    with store.session(who) as s:
        assert s.get("organisation", b["id"])["city"] == "Köln"
        assert {e["id"] for e in s.history("organisation", b["id"])} >= moved_ids
