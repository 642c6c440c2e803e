"""The CLI builds the engine services once per command, and the demo writes its records
through one write session: every record of the load or none."""
from __future__ import annotations

from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from cardbase.platform import cli as cli_module, composition
from cardbase.platform.demo import data as demo_data, demo_object_names, demo_solution, generate_records
from cardbase.platform.demo.data import counts_for
from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.db import Database
from cardbase.schema_engine.solution import import_solution
from cardbase.schema_engine.store.records import RecordStore


@pytest.fixture
def database(new_url):
    db = Database(new_url)
    yield db
    db.dispose()


@pytest.fixture
def sessions(monkeypatch):
    """Every engine session any record store opens, as "read" / "write"."""
    real = RecordStore.session
    log: list[str] = []

    @contextmanager
    def spy(self, actor, *, write=False, **kwargs):
        log.append("write" if write else "read")
        with real(self, actor, write=write, **kwargs) as s:
            yield s

    monkeypatch.setattr(RecordStore, "session", spy)
    return log


@pytest.fixture
def built(monkeypatch):
    """The engines ``cardbase`` commands build."""
    engines: list[composition.Engine] = []
    real = composition.build_engine

    def spy(db):
        engines.append(real(db))
        return engines[-1]

    monkeypatch.setattr(cli_module, "build_engine", spy)
    return engines


def count(db: Database, name: str) -> int:
    with RecordStore(db).session(SYSTEM) as s:
        return s.count(name)[0]


def test_demo_builds_the_engine_once_and_writes_in_one_session(cli, database, sessions, built):
    assert cli("init").exit_code == 0
    built.clear()
    sessions.clear()
    result = cli("demo", "--records", "40")
    assert result.exit_code == 0, result.output
    assert len(built) == 1
    assert sessions.count("write") == 1  # every record of the demo in one write session
    expected = counts_for(40)
    assert {name: count(database, name) for name in expected} == expected


def test_a_failing_demo_load_leaves_no_record(cli, database, monkeypatch):
    assert cli("init").exit_code == 0
    import_solution(database, demo_solution())

    def broken(self, n, contacts):
        raise RuntimeError("the last batch fails")

    monkeypatch.setattr(demo_data._Generator, "interactions", broken)
    with pytest.raises(RuntimeError, match="the last batch fails"):
        generate_records(database, SYSTEM, 40)
    assert {name: count(database, name) for name in demo_object_names()} == dict.fromkeys(demo_object_names(), 0)


def test_user_and_group_commands_use_the_command_engine(cli, database, built):
    assert cli("init").exit_code == 0
    built.clear()
    assert cli("user", "create", "ann", "--password", "a long password 1").exit_code == 0
    assert cli("group", "create", "Sales").exit_code == 0
    assert cli("group", "add", "ann", "Sales").exit_code == 0
    listed = cli("group", "list")
    assert "Sales\t1 member(s)" in listed.output
    assert len(built) == 4  # one per command
    with database.read() as conn:
        assert conn.execute(sa.text("select count(*) from cb_user where username = 'ann'")).scalar() == 1
