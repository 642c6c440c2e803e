"""An import killed with kill -9 in the middle, on both engines: all or nothing leaves no
record; an import that keeps its good rows has written exactly the chunks its job row
reports, and resuming the job after the last committed line imports the rest once."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import sqlalchemy as sa

from cardbase.schema_engine.transfer_models import TransferJob
from cardbase.transfer import jobs
from cardbase.transfer.importer import ImportSettings
from transfer_fixture import world, write_csv

ROOT = Path(__file__).resolve().parents[2]
CHILD = r'''
import sys, time
from pathlib import Path
from cardbase.schema_engine.actor import Actor
from cardbase.schema_engine.db import Database
from cardbase.schema_engine.store import RecordStore
from cardbase.transfer import jobs, readers
from cardbase.transfer.importer import Importer, ImportSettings

url, marker, mode, arg, uid = sys.argv[1:6]
original = jobs.JobProgress.live
def live(self, result, line):
    original(self, result, line)
    if result.rows >= 600:
        Path(marker).write_text(str(line))
        time.sleep(120)  # killed here, with the next chunk not begun
jobs.JobProgress.live = live
jobs.CHUNK = 200
store = RecordStore(Database(url))
who = Actor(user_id=int(uid), username="importer", is_admin=True)
if mode == "job":
    jobs.run_job(store, int(arg), who)
else:
    progress = jobs.JobProgress(store.db, 0)
    Importer(store, who, "person", readers.open_sheet(arg), ImportSettings({"Name": "name"}),
             progress=progress, chunk=200).run()
'''


def _kill_when_marked(args, marker: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen([sys.executable, "-c", CHILD, *args], env=env, cwd=str(ROOT))
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert child.poll() is None, "the import process ended before it was killed"
            assert time.monotonic() < deadline, "the import never got to the marker"
            time.sleep(0.05)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(30)


def _names(db) -> list[str]:
    with db.read() as conn:
        table = db.schema(conn).table("person")
        return list(conn.execute(sa.select(table.c[db.schema(conn).object("person").field("name").column])
                                 .order_by(table.c.id)).scalars())


def _url(db) -> str:
    return db.engine.url.render_as_string(hide_password=False)


def test_all_or_nothing_killed_leaves_nothing(db, tmp_path):
    _svc, store, who = world(db)
    path = write_csv(tmp_path / "big.csv", [["Name"]] + [[f"P{i}"] for i in range(1000)])
    marker = tmp_path / "marker"
    _kill_when_marked([_url(db), str(marker), "atomic", str(path), str(who.user_id)], marker)
    assert int(marker.read_text()) >= 600
    store.db.dispose()
    assert _names(db) == []
    with store.session(who, write=True) as s:  # the database is usable: no lock left behind
        s.create("person", {"name": "after"})
    assert _names(db) == ["after"]


def test_good_rows_job_killed_reports_what_was_written_and_resumes(db, tmp_path, monkeypatch):
    monkeypatch.setenv("CARDBASE_IMPORT_DIR", str(tmp_path))
    _svc, store, who = world(db)
    path = write_csv(tmp_path / "big.csv", [["Name"]] + [[f"P{i}"] for i in range(1000)])
    with store.session(who, write=True) as s:
        job_id = jobs.create_job(s.conn, who, s.object("person").id, str(path), "big.csv",
                                 ImportSettings({"Name": "name"}, atomic=False), {})
    marker = tmp_path / "marker"
    _kill_when_marked([_url(db), str(marker), "job", str(job_id), str(who.user_id)], marker)
    store.db.dispose()
    with db.read() as conn:
        job = conn.execute(sa.select(TransferJob.__table__).where(TransferJob.id == job_id)).mappings().one()
    written = _names(db)
    assert job["state"] == "running" and job["created"] == len(written) == job["rows_done"] == 600
    assert written == [f"P{i}" for i in range(len(written))] and job["last_line"] == len(written) + 1
    assert [j["id"] for j in jobs.interrupted_jobs(db)] == [job_id]
    jobs.run_job(store, job_id, who, resume=True)
    assert _names(db) == [f"P{i}" for i in range(1000)]  # the rest, each row once
    status = jobs.job_status(db, who, job_id)
    assert (status["state"], status["created"], status["progress"]["rows_done"]) == ("done", 1000, 1000)
