"""Resuming an interrupted import in the API (POST /api/v1/jobs/{id}/resume, in the OpenAPI
description) and on the wizard's job page (a "Resume" button, German texts)."""
from __future__ import annotations

import re

import pytest

from api_testlib import api_for, crm_app, error_of, signed_in
from cardbase.platform import users
from cardbase.schema_engine.actor import SYSTEM, Actor
from cardbase.schema_engine.store.records import RecordStore
from cardbase.transfer import jobs
from cardbase.transfer.importer import ImportSettings


class Killed(BaseException):
    """The process dying between two committed chunks (the job row stays "running")."""


def _interrupted_job(app, db, tmp_path, monkeypatch) -> int:
    monkeypatch.setenv("CARDBASE_IMPORT_DIR", str(tmp_path))
    path = tmp_path / "orgs.csv"
    path.write_text("Name\n" + "".join(f"Org {i}\n" for i in range(10)), encoding="utf-8")
    root = users.find_user(db, "root")
    who = Actor(user_id=root.id, username="root", is_admin=True)
    store = RecordStore(db)
    with store.session(who, write=True) as s:
        job_id = jobs.create_job(s.conn, who, s.object("organisation").id, str(path), "orgs.csv",
                                 ImportSettings({"Name": "name"}, atomic=False), {})
    monkeypatch.setattr(jobs, "CHUNK", 4)
    original = jobs.JobProgress.live

    def live(self, result, line):
        original(self, result, line)
        if result.rows >= 4:
            raise Killed()

    monkeypatch.setattr(jobs.JobProgress, "live", live)
    with pytest.raises(Killed):
        jobs.run_job(store, job_id, who)
    monkeypatch.setattr(jobs.JobProgress, "live", original)
    assert jobs.mark_interrupted(db, lease=0) == [job_id]
    return job_id


def _names(db) -> list[str]:
    return sorted(r["name"] for r in RecordStore(db).list(SYSTEM, "organisation").data)


def test_api_resumes_an_interrupted_job(db, tmp_path, monkeypatch):
    app = crm_app(db, CARDBASE_IMPORT_RUNNER="inline")
    job_id = _interrupted_job(app, db, tmp_path, monkeypatch)
    root = api_for(app, db, "root")
    before = root.get(f"/api/v1/jobs/{job_id}").get_json()
    assert (before["state"], before["created"], before["resumable"]) == ("interrupted", 4, True)
    assert "4 created" in before["message"] and "up to line 5" in before["message"]
    sam = api_for(app, db, "sam").post(f"/api/v1/jobs/{job_id}/resume")
    assert sam.status_code == 403  # someone else's job
    resumed = root.post(f"/api/v1/jobs/{job_id}/resume")
    assert resumed.status_code == 202 and resumed.headers["Location"] == f"/api/v1/jobs/{job_id}"
    body = resumed.get_json()
    assert (body["state"], body["created"], body["progress"]["rows_done"]) == ("done", 10, 10)
    assert body["resumed"] == {"after_line": 5, "rows_done": 4, "created": 4, "updated": 0, "skipped": 0,
                               "failed": 0}
    assert _names(db) == sorted(f"Org {i}" for i in range(10))
    again = root.post(f"/api/v1/jobs/{job_id}/resume")
    assert again.status_code == 422 and "only an interrupted job" in error_of(again)["message"]
    doc = root.get("/api/openapi.json").get_json()
    operation = doc["paths"]["/api/v1/jobs/{job_id}/resume"]["post"]
    assert operation["operationId"] == "resumeJob" and "202" in operation["responses"]


def test_job_page_offers_resume_in_german(db, tmp_path, monkeypatch):
    app = crm_app(db, CARDBASE_IMPORT_RUNNER="inline")
    job_id = _interrupted_job(app, db, tmp_path, monkeypatch)
    users.update_user(db, SYSTEM, "root", language="de")
    client = signed_in(app, "root")
    page = client.get(f"/imports/{job_id}").get_data(as_text=True)
    assert 'id="cb-import-resume"' in page and "Import fortsetzen" in page and "unterbrochen" in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    sent = client.post(f"/imports/{job_id}/resume", data={"csrf_token": token})
    assert sent.status_code == 302 and sent.headers["Location"].endswith(f"/imports/{job_id}")
    done = client.get(f"/imports/{job_id}").get_data(as_text=True)
    assert "Der Import geht nach Zeile 5 weiter." in done and 'id="cb-import-resume"' not in done
    assert "Fortgesetzt nach Zeile 5: 4 angelegt und 0 geändert davor." in done
    assert _names(db) == sorted(f"Org {i}" for i in range(10))
