"""The test fixtures themselves: fresh databases on both engines, a real PostgreSQL, and
the transactional-DDL recipe in db.py that the schema engine depends on."""
from __future__ import annotations

import os

import pytest
import sqlalchemy as sa
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext

from cardbase.schema_engine.db import Database
from cardbase.schema_engine.meta_models import ObjectType, system_table_names


class Boom(Exception):
    pass


def table_names(db: Database) -> set[str]:
    return set(sa.inspect(db.engine).get_table_names())


def count_objects(db: Database) -> int:
    with db.read() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(ObjectType.__table__)).scalar_one()


def insert_object(conn, api_name: str = "client") -> None:
    conn.execute(ObjectType.__table__.insert().values(
        api_name=api_name, label="Client", label_plural="Clients", code_pattern="C-{n}",
        description="", position=0, options={}))


def test_db_has_the_system_tables(db):
    assert system_table_names() <= table_names(db)
    with db.read() as conn:
        assert conn.exec_driver_sql("SELECT schema_version FROM cb_meta_state").scalar_one() == 1


def test_db_is_the_engine_it_claims(db, engine_name):
    assert db.dialect == engine_name
    with db.read() as conn:
        if engine_name == "postgresql":
            assert conn.exec_driver_sql("SELECT version()").scalar_one().startswith("PostgreSQL ")
        else:
            assert conn.exec_driver_sql("SELECT sqlite_version()").scalar_one()
            assert db.engine.url.database not in (None, "", ":memory:")


@pytest.mark.parametrize("round_", [1, 2])
def test_each_test_gets_a_fresh_database(db, round_):
    # Both rounds commit a row; each must start from an empty table, whatever the order.
    assert count_objects(db) == 0
    with db.write() as conn:
        insert_object(conn)
    assert count_objects(db) == 1


def test_a_failed_write_leaves_nothing(db):
    with pytest.raises(Boom):
        with db.write() as conn:
            insert_object(conn)
            raise Boom
    assert count_objects(db) == 0


def test_other_connections_see_committed_data(db, db_url):
    with db.write() as conn:
        insert_object(conn)
    other = Database(db_url)
    try:
        assert count_objects(other) == 1
    finally:
        other.dispose()


def test_ddl_rolls_back_with_the_transaction(db):
    """The pysqlite recipe: DDL inside a failed write must vanish, on SQLite too."""
    with pytest.raises(Boom):
        with db.write() as conn:
            op = Operations(MigrationContext.configure(conn))
            op.create_table("t_rollback_probe", sa.Column("id", sa.Integer, primary_key=True))
            op.add_column("cb_meta_state", sa.Column("probe", sa.Integer, nullable=True))
            insert_object(conn)
            assert "t_rollback_probe" in sa.inspect(conn).get_table_names()
            raise Boom
    assert "t_rollback_probe" not in table_names(db)
    columns = {c["name"] for c in sa.inspect(db.engine).get_columns("cb_meta_state")}
    assert "probe" not in columns
    assert count_objects(db) == 0


def test_ddl_commits_with_the_transaction(db):
    with db.write() as conn:
        Operations(MigrationContext.configure(conn)).create_table(
            "t_commit_probe", sa.Column("id", sa.Integer, primary_key=True))
    assert "t_commit_probe" in table_names(db)


def test_make_database_gives_an_empty_database(make_database, engine_name):
    url = make_database(engine_name)
    fresh = Database(url)
    try:
        assert fresh.dialect == engine_name
        assert table_names(fresh) == set()
        fresh.create_system_tables()  # what `cardbase init` does
        assert system_table_names() <= table_names(fresh)
    finally:
        fresh.dispose()


def test_postgresql_runs_under_ci(request, pg_bin_dir):
    if os.environ.get("CI", "").lower() != "true":
        pytest.skip("only checked with CI=true (where PostgreSQL must not be skipped)")
    assert pg_bin_dir is not None, "CI=true but no PostgreSQL server binaries were found"
    assert os.environ.get("CARDBASE_TEST_DB", "") in ("", "postgresql", "both", "all"), (
        "CI=true must run the PostgreSQL tests; unset CARDBASE_TEST_DB")
    server = request.getfixturevalue("pg_server")
    with server.connect() as conn:
        assert conn.execute("SELECT version()").fetchone()[0].startswith("PostgreSQL ")
