"""Full backup and restore: SQLite -> PostgreSQL -> SQLite and PostgreSQL -> SQLite ->
PostgreSQL, every table compared after each step; the restored instance goes on working
(ids and codes continue, search finds records); archives of a newer format version, with
a bad checksum, or restored over an instance that has data, are refused with nothing written."""
from __future__ import annotations

import json
import os
import zipfile
from datetime import datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa

from cardbase.schema_engine.db import Database
from cardbase.schema_engine.errors import ValidationError
from cardbase.schema_engine.meta_models import User
from cardbase.schema_engine.query.model import ListQuery
from cardbase.schema_engine.snapshot import load_schema
from cardbase.schema_engine.store import RecordStore
from cardbase.transfer import backup as bk
from transfer_fixture import world

ENGINES = [e for e in ("sqlite", "postgresql") if os.environ.get("CARDBASE_TEST_DB", e) == e]


def other(engine: str) -> str:
    rest = [e for e in ENGINES if e != engine]
    return rest[0] if rest else engine


@pytest.fixture
def filled(db):
    svc, store, who = world(db)
    with store.session(who, write=True) as s:
        acme = s.create("organisation", {"name": "ACME Straße", "city": "Berlin"})
        for i in range(25):
            s.create("person", {"name": f"Person {i}", "email": f"p{i}@example.org", "phone": "+49 30 1234567",
                                "birthday": "1990-01-02", "stage": "lead", "score": f"{i}.25",
                                "budget": {"amount": "1234.50", "currency": "EUR"}, "organisation": acme["id"]})
        p1 = s.get("person", 2)
        s.update("person", p1["id"], {"city": "Köln"}, version=p1["version"])
        s.delete("person", 3)
        s.delete("person", 25)
        s.purge("person", 25)  # its id is never handed out again, after a restore either
    svc.add_field(svc_actor(), "organisation", {"name": "parent", "label": "Parent", "type": "link",
                                                "options": {"target": "person", "on_delete": "set_null"}})
    with store.session(who, write=True) as s:  # a link to a later object: restored after every row is in
        org = s.get("organisation", acme["id"])
        s.update("organisation", acme["id"], {"parent": 1}, version=org["version"])
    return db, store, who


def svc_actor():
    from cardbase.schema_engine.actor import SYSTEM

    return SYSTEM


def snapshot_tables(db: Database) -> dict[str, list[tuple]]:
    """Every table's rows in key order, values made comparable across engines."""
    out = {}
    with db.read() as conn:
        schema = load_schema(conn)
        for name, table in bk.build_tables(schema).items():
            order = list(table.primary_key.columns) or list(table.columns)[:1]
            rows = conn.execute(sa.select(table).order_by(*order)).all()
            out[name] = [tuple(_plain(name, c.name, v) for c, v in zip(table.columns, row)) for row in rows]
    return out


def _plain(table: str, column: str, value):
    if table == "cb_meta_state" and column == "schema_version":
        return "bumped"  # a restore moves it on, so every worker reloads
    if isinstance(value, Decimal):
        return value.normalize()
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    return value


@pytest.mark.parametrize("hops", [1, 2])
def test_round_trip_to_the_other_engine_and_back(filled, engine_name, make_database, tmp_path, hops):
    db, _store, _who = filled
    before = snapshot_tables(db)
    assert len(before["obj_2"]) == 24 and len(before["cb_history"]) >= 28 and len(before["cb_action"]) >= 28
    assert sum(1 for rows in before.values() if rows) >= 10  # users, metadata, history, actions, records ...
    source, engines = db, [other(engine_name), engine_name][:hops]
    for i, engine in enumerate(engines):
        archive = tmp_path / f"hop{i}.zip"
        manifest = bk.backup(source, str(archive))
        assert manifest["source_engine"] == source.dialect and manifest["format_version"] == bk.FORMAT_VERSION
        target = Database(make_database(engine))
        try:
            bk.restore(target, str(archive))
            after = snapshot_tables(target)
        except Exception:
            target.dispose()
            raise
        assert after.keys() == before.keys()
        for name in before:
            assert after[name] == before[name], f"table {name} differs after restoring into {engine}"
        source = target
    store = RecordStore(source)
    with source.read() as conn:
        uid = conn.execute(sa.select(User.id).where(User.username == "importer")).scalar_one()
    from cardbase.schema_engine.actor import Actor

    who = Actor(user_id=uid, username="importer", is_admin=True)
    with store.session(who, write=True) as s:
        new = s.create("person", {"name": "After restore"})
        assert new["id"] == 26 and new["code"] == "P-00026"  # the purged id 25 stays unused
        assert [r["name"] for r in s.list("person", ListQuery(search="Köln")).data] == ["Person 1"]
        found = s.list("organisation", ListQuery(search="Straße")).data
        assert [r["name"] for r in found] == ["ACME Straße"]
        assert s.get("organisation", 1)["parent"].id == 1
    source.dispose()


def test_newer_format_and_bad_checksum_are_refused_with_nothing_written(filled, make_database, engine_name,
                                                                         tmp_path):
    db, _store, _who = filled
    archive = tmp_path / "good.zip"
    bk.backup(db, str(archive))

    def rewritten(name, change):
        path = tmp_path / name
        with zipfile.ZipFile(archive) as src, zipfile.ZipFile(path, "w") as dst:
            for item in src.infolist():
                dst.writestr(item, change(item.filename, src.read(item.filename)))
        return str(path)

    def newer(member, data):
        if member != "manifest.json":
            return data
        manifest = json.loads(data)
        manifest["format_version"] = bk.FORMAT_VERSION + 1
        manifest["checksum"] = bk._manifest_checksum(manifest)
        return json.dumps(manifest).encode()

    def tampered(member, data):
        return data.replace(b"Person 7", b"Person X") if member.endswith(".jsonl") else data

    target = Database(make_database(engine_name))
    try:
        with pytest.raises(ValidationError) as exc:
            bk.restore(target, rewritten("newer.zip", newer))
        assert "format version 2" in exc.value.errors["format_version"][0] and "up to 1" in exc.value.errors["format_version"][0]
        with pytest.raises(ValidationError) as exc:
            bk.restore(target, rewritten("bad.zip", tampered))
        assert "does not match its checksum" in exc.value.errors["checksum"][0]
        with pytest.raises(ValidationError, match="not a cardbase backup"):
            (tmp_path / "junk.zip").write_bytes(b"not a zip")
            bk.restore(target, str(tmp_path / "junk.zip"))
        assert not sa.inspect(target.engine).get_table_names()  # refused before anything was written
        with pytest.raises(ValidationError, match="is not empty"):
            bk.restore(db, str(archive))
    finally:
        target.dispose()
