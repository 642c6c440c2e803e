"""The import wizard (upload -> mapping -> preview with cell errors and duplicate groups ->
run with progress -> bad rows), the duplicates screen with a merge, and the admin's backup
screen, through the browser's forms, in English and German."""
from __future__ import annotations

import io
import json
import re
import zipfile

import pytest

from api_testlib import crm_app, signed_in
from cardbase.platform import users
from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.store.records import RecordStore

CSV = "Name;City;VAT number\nACME;Berlin;DE1\nacme ;berlin;DE2\nNoName;;\n;Bonn;DE3\n".encode("utf-8")


@pytest.fixture
def app(db, tmp_path, monkeypatch):
    monkeypatch.setenv("CARDBASE_IMPORT_DIR", str(tmp_path / "imports"))
    return crm_app(db, CARDBASE_IMPORT_RUNNER="inline")


def _csrf(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def test_import_wizard_end_to_end(app, db):
    client = _login(app)
    listing = client.get("/o/organisation").get_data(as_text=True)
    assert 'id="cb-import-link"' in listing and 'id="cb-duplicates-link"' in listing
    form = client.get("/o/organisation/import").get_data(as_text=True)
    token = _csrf(form)
    sent = client.post("/o/organisation/import", data={
        "csrf_token": token, "file": (io.BytesIO(CSV), "orgs.csv"), "locale": "de"},
        content_type="multipart/form-data")
    assert sent.status_code == 302 and "/o/organisation/import/" in sent.headers["Location"]
    mapping_url = sent.headers["Location"]
    page = client.get(mapping_url).get_data(as_text=True)
    assert 'name="map_0"' in page and 'value="name" selected' in page and 'value="vat" selected' in page
    fields = {"csrf_token": _csrf(page), "map_0": "name", "map_1": "city", "map_2": "vat", "mode": "create",
              "key": "code", "locale": "de", "atomic": "0", "rule": "name_city"}
    preview = client.post(mapping_url, data={**fields, "step": "preview"}).get_data(as_text=True)
    assert 'id="cb-import-preview"' in preview and 'id="cb-import-summary"' in preview
    assert "is required" in preview  # line 5 has no name
    assert 'id="cb-import-duplicates"' in preview
    group = re.search(r'name="(group_name\+city:[^"]+)"', preview).group(1)
    assert "name + city: ACME, Berlin</td>" in preview  # the values as typed, not the normalised key
    run = client.post(mapping_url, data={**fields, "step": "run", group: "create", "save_as": "Partner list"})
    assert run.status_code == 302
    progress = client.get(run.headers["Location"]).get_data(as_text=True)
    assert 'id="cb-import-bar"' in progress and 'id="cb-import-bad-rows"' in progress
    status = client.get(run.headers["Location"] + "/status").get_json()
    assert (status["state"], status["created"], status["failed"]) == ("done", 3, 1)
    bad = client.get(run.headers["Location"] + "/bad-rows")
    assert bad.status_code == 200 and bad.data[:2] == b"PK"
    names = sorted(r["name"] for r in RecordStore(db).list(SYSTEM, "organisation").data)
    assert names == ["ACME", "NoName", "acme"]


def _login(app):
    return signed_in(app, "root")


def test_wizard_refuses_a_missing_file_a_big_one_and_users_without_the_right(app, db, monkeypatch):
    monkeypatch.setenv("CARDBASE_IMPORT_MAX_MB", "1")
    client = _login(app)
    token = _csrf(client.get("/o/organisation/import").get_data(as_text=True))
    page = client.post("/o/organisation/import", data={"csrf_token": token}, content_type="multipart/form-data")
    assert page.status_code == 200 and "Choose a CSV or XLSX file." in page.get_data(as_text=True)
    assert page.get_data(as_text=True).count('name="csrf_token"') >= 1  # every form carries its CSRF token
    big = client.post("/o/organisation/import", data={"csrf_token": token, "file": (io.BytesIO(b"x" * 2 * 1048576), "a.csv")},
                      content_type="multipart/form-data")
    assert "the limit is 1 MB" in big.get_data(as_text=True)
    kim = signed_in(app, "kim")
    assert kim.get("/o/organisation/import").status_code == 403


def test_duplicates_screen_merges_a_group_in_german(app, db):
    store = RecordStore(db)
    a = store.create(SYSTEM, "organisation", {"name": "ACME", "city": "Berlin", "vat": "DE1"})
    b = store.create(SYSTEM, "organisation", {"name": "acme", "city": "BERLIN"})
    store.create(SYSTEM, "deal", {"title": "Deal", "organisation": b["id"]})
    users.update_user(db, SYSTEM, "root", language="de")
    client = _login(app)
    page = client.get("/o/organisation/duplicates?rule=name_city").get_data(as_text=True)
    assert "Doppelte" in page and "In den behaltenen Datensatz zusammenführen" in page and "Name und Ort" in page
    data = {"csrf_token": _csrf(page), "record": [str(a["id"]), str(b["id"])], "survivor": str(a["id"]),
            "pick_name": str(a["id"]), "pick_city": str(b["id"]), "pick_vat": str(a["id"])}
    done = client.post("/o/organisation/duplicates?rule=name_city", data=data)
    assert done.status_code == 302
    after = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "2 Datensätze wurden zu einem zusammengeführt." in after
    records = store.list(SYSTEM, "organisation").data
    assert [(r["name"], r["city"]) for r in records] == [("ACME", "BERLIN")]
    assert store.list(SYSTEM, "deal").data[0]["organisation"].id == a["id"]


def test_admin_backup_screen(app, db):
    client = _login(app)
    page = client.get("/admin/backup").get_data(as_text=True)
    assert 'id="cb-backup-download"' in page
    got = client.post("/admin/backup", data={"csrf_token": _csrf(page)})
    assert got.status_code == 200 and got.headers["Content-Disposition"].startswith("attachment;")
    with zipfile.ZipFile(io.BytesIO(got.data)) as zf:
        manifest = json.loads(zf.read("manifest.json"))
    assert manifest["format"] == "cardbase-backup" and any(t["name"] == "cb_user" for t in manifest["tables"])
    assert signed_in(app, "kim").get("/admin/backup").status_code == 403


def test_the_app_keeps_sql_views_current(app):
    from cardbase.schema_engine.schema_service import CHANGE_HOOKS
    from cardbase.transfer.sql_views import ViewsHook

    assert sum(isinstance(h, ViewsHook) for h in CHANGE_HOOKS) == 1  # installed once, in every app process
