"""`cardbase backup`, `cardbase restore` and `cardbase sql-views` on the demo CRM: a backup
restored into an empty instance of the other engine holds every row; a damaged archive and
a non-empty target are refused with a clear message (exit code 2)."""
from __future__ import annotations

import os
import zipfile

import sqlalchemy as sa

from cardbase.schema_engine.db import Database
from cardbase.schema_engine.snapshot import load_schema
from cardbase.transfer.backup import build_tables


def _other(engine: str) -> str:
    chosen = os.environ.get("CARDBASE_TEST_DB", "")
    return engine if chosen in ("sqlite", "postgresql") else ("postgresql" if engine == "sqlite" else "sqlite")


def _counts(url: str) -> dict[str, int]:
    db = Database(url)
    try:
        with db.read() as conn:
            tables = build_tables(load_schema(conn))
            return {name: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
                    for name, t in tables.items()}
    finally:
        db.dispose()


def test_backup_restore_and_sql_views_on_the_demo(cli, new_url, engine_name, make_database, cli_for, tmp_path):
    assert cli("init").exit_code == 0
    assert cli("demo", "--records", "8").exit_code == 0
    archive = tmp_path / "demo.zip"
    out = cli("backup", str(archive))
    assert out.exit_code == 0 and "backup written to" in out.output and "format version 1" in out.output
    target_url = make_database(_other(engine_name))
    assert cli_for(target_url)("init").exit_code == 0  # an empty instance with its own admin: replaced by the backup's
    restored = cli_for(target_url)("restore", str(archive))
    assert restored.exit_code == 0, restored.output
    assert f"taken on {engine_name}" in restored.output
    before, after = _counts(new_url), _counts(target_url)
    assert after == before and sum(before.values()) > 100
    views = cli_for(target_url)("sql-views")
    assert views.exit_code == 0 and "views:" in views.output
    again = cli_for(target_url)("restore", str(archive))
    assert again.exit_code == 2 and "is not empty" in again.output
    damaged = tmp_path / "damaged.zip"
    with zipfile.ZipFile(archive) as src, zipfile.ZipFile(damaged, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            dst.writestr(item, data[:-20] + b"x" * 20 if item.filename == "tables/cb_user.jsonl" else data)
    refused = cli_for(make_database(engine_name))("restore", str(damaged))
    assert refused.exit_code == 2 and "cb_user.jsonl does not match its checksum" in refused.output
