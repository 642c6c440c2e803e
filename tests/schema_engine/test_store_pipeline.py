"""The engine session and the one change pipeline: every write path passes every step,
formulas follow every change (the owner too), bulk writes are set-based, a failure in
the last step leaves nothing behind, reads check their purpose, and actions can be undone."""
from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from cardbase.schema_engine import rights
from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.errors import Conflict, Forbidden, NotFound, ValidationError
from cardbase.schema_engine.meta_models import ActionRow, HistoryEntry, OutboxEvent
from cardbase.schema_engine.query.model import AggregateQuery, ListQuery
from cardbase.schema_engine.store.pipeline import EFFECTS
from cardbase.schema_engine.store.validation import BulkValidationError

from crm_fixture import crm
from rights_fixture import actor, add_group, add_user, join, state
from sql_recorder import recorded

ALL_STEPS = ["rights", "validate", "write"] + [name for name, _step in EFFECTS]


@pytest.fixture
def world(db):
    svc, store = crm(db)
    svc.add_field(SYSTEM, "deal", {"name": "owner_text", "label": "Owner text", "type": "formula",
                                   "options": {"formula": '[Owner] & ""'}})
    svc.add_field(SYSTEM, "deal", {"name": "double", "label": "Double", "type": "formula",
                                   "options": {"formula": "[Amount] * 2"}})
    ann = actor(db, add_user(db, "ann", admin=True))
    ben = actor(db, add_user(db, "ben", admin=True))
    calls: list[tuple[str, str, list[int]]] = []
    store.hooks.register(lambda conn, schema, obj, ids, action, who: calls.append((obj.api_name, action, list(ids))))
    return db, store, ann, ben, calls


def counts(db) -> dict[str, int]:
    with db.read() as conn:
        return {t.__tablename__: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar()
                for t in (HistoryEntry, OutboxEvent, ActionRow)}


def last_action(db):
    with db.read() as conn:
        return conn.execute(sa.select(ActionRow.__table__).order_by(ActionRow.id.desc()).limit(1)).mappings().first()


def applied(store, who, fn):
    """Run ``fn(session)`` in a write session; return (result, ChangeSet)."""
    with store.session(who, write=True) as s:
        result = fn(s)
        return result, s.last


def test_every_write_path_passes_every_step(world):
    db, store, ann, _ben, calls = world
    org, cs = applied(store, ann, lambda s: s.create("organisation", {"name": "ACME"}))
    assert cs.steps == ALL_STEPS and [c.action for c in cs.records] == ["create"]
    deal, cs = applied(store, ann, lambda s: s.create("deal", {"title": "Big", "amount": "10", "organisation": org["id"]}))
    assert cs.steps == ALL_STEPS and deal["double"] == Decimal("20")
    paths = {
        "update": lambda s: s.update("deal", deal["id"], {"amount": "21"}, version=1),
        "bulk": lambda s: s.bulk_write("deal", [{"title": "New"}, {"id": deal["id"], "version": 2, "title": "Bigger"}]),
        "owner": lambda s: s.set_owner("deal", deal["id"], ann.user_id + 1, version=3),
        "delete": lambda s: s.delete("deal", deal["id"]),
        "restore": lambda s: s.restore("deal", deal["id"]),
    }
    for kind, fn in paths.items():
        before = counts(db)
        _result, cs = applied(store, ann, fn)
        assert cs.kind == kind and cs.steps == ALL_STEPS, kind
        after = counts(db)
        assert after["cb_history"] > before["cb_history"] and after["cb_outbox"] > before["cb_outbox"], kind
        assert after["cb_action"] == before["cb_action"] + 1, kind
        assert last_action(db)["kind"] == kind and last_action(db)["batch"] == cs.batch
    assert [c[1] for c in calls if c[0] == "deal"] == ["create", "update", "create", "update", "update", "delete",
                                                        "restore"]
    _r, cs = applied(store, ann, lambda s: s.delete("deal", deal["id"]))
    _r, cs = applied(store, ann, lambda s: s.purge("deal", deal["id"]))
    assert cs.kind == "purge" and cs.steps == ALL_STEPS and calls[-1] == ("deal", "purge", [deal["id"]])
    with db.read() as conn:  # every history row of an action carries its batch
        assert conn.execute(sa.select(sa.func.count()).select_from(HistoryEntry)
                            .where(HistoryEntry.batch.is_(None))).scalar() == 0


def test_search_index_follows_every_write(world):
    _db, store, ann, _ben, _calls = world
    org = store.create(ann, "organisation", {"name": "Initech"})
    find = lambda q: [r["id"] for r in store.list(ann, "organisation", ListQuery(search=q)).data]  # noqa: E731
    assert find("Initech") == [org["id"]]
    store.update(ann, "organisation", org["id"], {"name": "Umbrella"}, version=1)
    assert find("Initech") == [] and find("Umbrella") == [org["id"]]


def test_the_owner_formula_follows_a_change_of_owner(world):
    """Issue 12: after set_owner, a formula [Owner] & "" showed the old owner."""
    db, store, ann, ben, _calls = world
    deal = store.create(ann, "deal", {"title": "Mine"})
    assert deal["owner_text"] == str(ann.user_id)
    moved = store.set_owner(ann, "deal", deal["id"], ben.user_id)
    assert moved["owner_text"] == str(ben.user_id)
    assert store.get(ben, "deal", deal["id"])["owner_text"] == str(ben.user_id)


def test_own_formulas_are_written_with_the_update_not_in_a_second_update(world):
    db, store, ann, _ben, _calls = world
    deal = store.create(ann, "deal", {"title": "One", "amount": "5"})
    table = db.schema().table(db.schema().object("deal")).name
    with recorded(db.engine) as seen:
        after = store.update(ann, "deal", deal["id"], {"amount": "7"}, version=1)
    updates = [s for s in seen if s.lstrip().upper().startswith("UPDATE") and table in s]
    assert after["double"] == Decimal("14") and len(updates) == 1


def statements_for(db, fn) -> int:
    with recorded(db.engine) as seen:
        fn()
    return len(seen)


def test_bulk_updates_are_set_based(world):
    """A 1,000-row bulk update costs the same number of statements as a 10-row one."""
    db, store, ann, _ben, _calls = world
    org = store.create(ann, "organisation", {"name": "ACME"})
    ids = store.bulk_create(ann, "deal", [{"title": f"D{i}", "amount": i, "organisation": org["id"]}
                                          for i in range(1000)])

    def bulk(n: int, step: int) -> None:
        with db.read() as conn:
            table = db.schema(conn).table(db.schema(conn).object("deal"))
            versions = dict(conn.execute(sa.select(table.c.id, table.c.version).where(table.c.id.in_(ids[:n]))).all())
        store.bulk_write(ann, "deal", [{"id": i, "version": versions[i], "amount": step + n} for i in ids[:n]])
    small = statements_for(db, lambda: bulk(10, 1))
    large = statements_for(db, lambda: bulk(1000, 2))
    assert large == small and large < 40
    assert store.get(ann, "deal", ids[999])["double"] == Decimal(2 * 1002)


def test_a_stale_version_is_refused_by_every_write_path(world):
    db, store, ann, ben, _calls = world
    deal = store.create(ann, "deal", {"title": "Old"})
    store.update(ann, "deal", deal["id"], {"title": "New"}, version=1)
    before = state(db)
    for write in (lambda: store.update(ann, "deal", deal["id"], {"title": "X"}, version=1),
                  lambda: store.delete(ann, "deal", deal["id"], version=1),
                  lambda: store.set_owner(ann, "deal", deal["id"], ben.user_id, version=1)):
        with pytest.raises(Conflict, match="changed by someone else"):
            write()
    with pytest.raises(BulkValidationError) as err:
        store.bulk_write(ann, "deal", [{"id": deal["id"], "version": 1, "title": "X"}])
    assert "changed by someone else" in err.value.rows[0]["version"][0]
    assert state(db) == before


def test_a_failing_last_step_leaves_nothing_behind_and_the_session_goes_on(world):
    db, store, ann, _ben, _calls = world
    deal = store.create(ann, "deal", {"title": "Keep"})

    def refuse(conn, schema, obj, ids, action, who):
        raise ValidationError({"hook": "refused by a hook"})
    store.hooks.register(refuse)
    before, before_counts = state(db), counts(db)
    with store.session(ann, write=True) as s:
        for write in (lambda: s.create("deal", {"title": "Lost"}),
                      lambda: s.update("deal", deal["id"], {"title": "Changed"}, version=1),
                      lambda: s.delete("deal", deal["id"])):
            with pytest.raises(ValidationError, match="refused by a hook"):
                write()
        assert s.get("deal", deal["id"])["title"] == "Keep"  # the session still reads
    store.hooks.unregister(refuse)
    assert state(db) == before and counts(db) == before_counts


# ---- purposes ------------------------------------------------------------------------------------
def test_each_purpose_needs_its_right(db):
    _svc, store = crm(db)
    store.create(SYSTEM, "deal", {"title": "Visible"})
    uid = add_user(db, "reader")
    gid = add_group(db, "Readers")
    join(db, uid, gid)
    rights.set_object_rights(db, SYSTEM, "Readers", "deal", ["read"])
    who = actor(db, uid)
    with store.session(who) as s:
        assert len(s.list("deal").data) == 1 and len(s.list("deal", purpose="api").data) == 1
        for purpose, right in (("export", "export"), ("report", "report"), ("print", "print")):
            with pytest.raises(Forbidden, match=f"may not {right}"):
                s.list("deal", purpose=purpose)
        with pytest.raises(Forbidden, match="may not report"):
            s.aggregate("deal", AggregateQuery())
        with pytest.raises(ValueError, match="unknown read purpose"):
            s.list("deal", purpose="gossip")
    rights.set_object_rights(db, SYSTEM, "Readers", "deal", ["read", "export", "report", "print"])
    with store.session(who) as s:
        for purpose in ("export", "report", "print"):
            assert len(s.list("deal", purpose=purpose).data) == 1
        assert s.aggregate("deal", AggregateQuery())[0]["count"] == 1
        assert s.capabilities("deal").rights == {"read", "export", "report", "print"}


# ---- undo ----------------------------------------------------------------------------------------
def test_undo_reverts_updates_creates_deletes_and_owner_and_redo_undoes_the_undo(world):
    db, store, ann, ben, _calls = world
    deal = store.create(ann, "deal", {"title": "First", "amount": "3"})
    store.update(ann, "deal", deal["id"], {"title": "Second", "amount": "4"}, version=1)
    update_action = last_action(db)["id"]
    store.undo(ann, update_action)
    back = store.get(ann, "deal", deal["id"])
    assert (back["title"], back["amount"], back["double"]) == ("First", Decimal("3.00"), Decimal("6"))
    redo = last_action(db)
    assert redo["kind"] == "undo" and redo["undoes"] == update_action
    store.undo(ann, redo["id"])  # redo
    assert store.get(ann, "deal", deal["id"])["title"] == "Second"

    store.delete(ann, "deal", deal["id"])
    store.undo(ann, last_action(db)["id"])
    assert store.get(ann, "deal", deal["id"])["title"] == "Second"

    created = store.create(ann, "organisation", {"name": "Oops"})
    store.undo(ann, last_action(db)["id"])
    with pytest.raises(NotFound):
        store.get(ann, "organisation", created["id"])
    assert store.get(ann, "organisation", created["id"], trash=True)["name"] == "Oops"

    current = store.get(ann, "deal", deal["id"])
    store.set_owner(ann, "deal", deal["id"], ben.user_id, version=current["version"])
    store.undo(ann, last_action(db)["id"])
    assert store.get(ann, "deal", deal["id"])["owner_text"] == str(ann.user_id)
    listed = store.actions(ann)
    assert listed[0]["kind"] == "undo" and {a["kind"] for a in listed} >= {"create", "update", "delete", "owner"}


def test_undo_of_a_changed_record_is_refused_and_changes_nothing(world):
    db, store, ann, ben, _calls = world
    deal = store.create(ann, "deal", {"title": "Mine"})
    store.update(ann, "deal", deal["id"], {"title": "Ann's"}, version=1)
    action = last_action(db)["id"]
    store.update(ben, "deal", deal["id"], {"title": "Ben's"}, version=2)
    before = state(db)
    with pytest.raises(Conflict, match="changed since this action"):
        store.undo(ann, action)
    assert state(db) == before


def test_undo_of_another_users_action_twice_or_of_a_purge_is_refused(world):
    db, store, ann, ben, _calls = world
    deal = store.create(ann, "deal", {"title": "Mine"})
    action = last_action(db)["id"]
    before = state(db)
    with pytest.raises(Forbidden, match="someone else's"):
        store.undo(ben, action)
    with pytest.raises(NotFound, match="no action 999999"):
        store.undo(ann, 999999)
    with pytest.raises(ValidationError, match="not an action id"):
        store.undo(ann, "abc")
    assert state(db) == before
    store.undo(ann, action)
    with pytest.raises(Conflict, match="undone already"):
        store.undo(ann, action)
    store.purge(ann, "deal", deal["id"])
    with pytest.raises(Conflict, match="purge cannot be undone"):
        store.undo(ann, last_action(db)["id"])


def test_undo_on_a_record_the_user_can_no_longer_see_is_refused(db):
    _svc, store = crm(db)
    uid = add_user(db, "junior")
    gid = add_group(db, "Juniors")
    join(db, uid, gid)
    rights.set_object_rights(db, SYSTEM, "Juniors", "deal", ["read", "create", "edit"])
    rights.set_access_mode(db, SYSTEM, "deal", "own_and_shared")
    junior = actor(db, uid)
    deal = store.create(junior, "deal", {"title": "Mine"})
    store.update(junior, "deal", deal["id"], {"title": "Changed"}, version=1)
    with db.read() as conn:
        action = conn.execute(sa.select(sa.func.max(ActionRow.id))).scalar()
    store.set_owner(SYSTEM, "deal", deal["id"], add_user(db, "senior"), version=2)
    before = state(db)
    with pytest.raises(Forbidden, match="no longer visible"):
        store.undo(junior, action)
    assert state(db) == before


def test_sharing_is_a_change_of_the_pipeline_and_can_be_undone(db):
    _svc, store = crm(db)
    owner_id, reader_id = add_user(db, "owner"), add_user(db, "reader")
    gid = add_group(db, "Team")
    join(db, owner_id, gid)
    join(db, reader_id, gid)
    rights.set_object_rights(db, SYSTEM, "Team", "deal", ["read", "create", "edit", "delete"])
    rights.set_access_mode(db, SYSTEM, "deal", "own_and_shared")
    owner, reader = actor(db, owner_id), actor(db, reader_id)
    deal = store.create(owner, "deal", {"title": "Shared"})
    with store.session(owner, write=True) as s:
        s.share("deal", deal["id"], user="reader", level="read")
        assert s.last.kind == "share" and s.last.steps == ALL_STEPS
    assert store.get(reader, "deal", deal["id"])["title"] == "Shared"
    with db.read() as conn:
        topics = conn.execute(sa.select(OutboxEvent.topic).order_by(OutboxEvent.id.desc()).limit(1)).scalars().all()
    assert topics == ["record.shared"]
    assert store.history(owner, "deal", deal["id"])[0]["action"] == "share"
    store.undo(owner, last_action(db)["id"])  # the share ends
    with pytest.raises(NotFound):
        store.get(reader, "deal", deal["id"])
    store.undo(owner, last_action(db)["id"])  # redo: shared again
    assert store.get(reader, "deal", deal["id"])["title"] == "Shared"
    store.unshare(owner, "deal", deal["id"], user="reader")
    store.undo(owner, last_action(db)["id"])  # the end of the share is undone
    assert store.shares_of(owner, "deal", deal["id"])[0]["level"] == "read"


def test_many_records_go_to_the_trash_as_one_action_and_come_back_with_one_undo(world):
    db, store, ann, _ben, _calls = world
    org = store.create(ann, "organisation", {"name": "ACME"})
    ids = store.bulk_create(ann, "deal", [{"title": f"D{i}", "organisation": org["id"]} for i in range(3)])
    stale = store.update(ann, "deal", ids[2], {"title": "changed"}, version=1)
    before = state(db)
    with pytest.raises(BulkValidationError) as err:  # one stale row: nothing moves
        with store.session(ann, write=True) as s:
            s.bulk_delete("deal", [(ids[0], 1), (ids[1], None), (ids[2], 1), ("x", 1), (999999, None)])
    assert set(err.value.rows) == {2, 3, 4} and "changed by someone else" in err.value.rows[2]["version"][0]
    assert state(db) == before
    with store.session(ann, write=True) as s:
        assert s.bulk_delete("deal", [(ids[0], 1), (ids[1], None), (ids[2], stale["version"])]) == ids
        action = s.last.action_id
        assert s.last.kind == "delete" and len(s.last.records) == 3
    assert store.list(ann, "deal").data == []
    store.undo(ann, action)
    assert sorted(r["id"] for r in store.list(ann, "deal").data) == ids


def test_a_share_never_passes_on_a_field_the_sharer_may_not_read_or_change(db):
    """Issue 19, point 5: a junior for whom Amount is hidden shared a deal at change level
    with a user in no group, who then read and changed the amount."""
    _svc, store = crm(db)
    junior_id, outsider_id, peer_id = add_user(db, "junior"), add_user(db, "outsider"), add_user(db, "peer")
    juniors, auditors = add_group(db, "Juniors"), add_group(db, "Auditors")
    join(db, junior_id, juniors)
    join(db, peer_id, juniors)
    rights.set_object_rights(db, SYSTEM, "Juniors", "deal", ["read", "create", "edit", "delete"])
    rights.set_field_right(db, SYSTEM, "Juniors", "deal", "amount", "hidden")
    rights.set_field_right(db, SYSTEM, "Juniors", "deal", "title", "read_only")
    junior, outsider = actor(db, junior_id), actor(db, outsider_id)
    deal = store.create(SYSTEM, "deal", {"title": "Secret", "amount": "99000"})
    before = state(db)
    with pytest.raises(Forbidden, match="would read 1 field"):
        store.share(junior, "deal", deal["id"], user="outsider", level="change")
    with pytest.raises(Forbidden, match="would read 1 field"):
        store.share(junior, "deal", deal["id"], user="outsider", level="read")
    assert state(db) == before
    join(db, outsider_id, auditors)
    outsider = actor(db, outsider_id)
    before = state(db)
    with pytest.raises(Forbidden, match="group 'Auditors'"):
        store.share(junior, "deal", deal["id"], group="Auditors", level="read")
    assert state(db) == before
    with pytest.raises(Forbidden, match="may not read Deals"):  # nothing was shared
        store.get(outsider, "deal", deal["id"])
    # the peer holds what the junior holds: read is fine, and so is change (Title read-only for both)
    store.share(junior, "deal", deal["id"], user="peer", level="change")
    rights.set_field_right(db, SYSTEM, "Auditors", "deal", "amount", "hidden")
    store.share(junior, "deal", deal["id"], user="outsider", level="read")  # Amount hidden for them too
    assert "amount" not in store.get(outsider, "deal", deal["id"])
    with pytest.raises(Forbidden, match="could change 1 field"):  # Title is read-only for the junior only
        store.share(junior, "deal", deal["id"], user="outsider", level="change")
