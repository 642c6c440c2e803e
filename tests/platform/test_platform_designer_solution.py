"""Solutions in the browser (/designer/solution): download, upload with a preview of what
an import would add, change or remove, apply (administrators only); bad files are
refused with a clear message and change nothing."""
from __future__ import annotations

import io
import json
import re

import pytest
from designer2_testlib import crm_app, grant, signed_in

from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.schema_service import SchemaService
from cardbase.schema_engine.snapshot import current_version
from cardbase.designer_ui import solution as solution_ui


@pytest.fixture
def app(db, tmp_path, monkeypatch):
    monkeypatch.setattr(solution_ui, "pending_dir", lambda: tmp_path)
    return crm_app(db)


@pytest.fixture
def root(app):
    return signed_in(app, "root")


def _version(db) -> int:
    with db.read() as conn:
        return current_version(conn)


def _upload(client, content: bytes, filename: str = "solution.json"):
    return client.post("/designer/solution/preview", data={"document": (io.BytesIO(content), filename)},
                       content_type="multipart/form-data")


def _export(client) -> dict:
    response = client.get("/designer/solution/export.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert re.match(r'attachment; filename="cardbase-solution-\d{8}-\d{4}\.json"',
                    response.headers["Content-Disposition"])
    return json.loads(response.get_data(as_text=True))


def test_download_preview_and_apply(root, db, tmp_path):
    document = _export(root)
    assert document["format"] == "cardbase-solution"
    assert [o["name"] for o in document["objects"]] == ["organisation", "deal"]
    deal = next(o for o in document["objects"] if o["name"] == "deal")
    deal["label_plural"] = "Opportunities"
    deal["fields"].append({"name": "region", "label": "Region", "type": "string"})
    document["objects"].append({"name": "supplier", "label": "Supplier", "label_plural": "Suppliers",
                                "fields": [{"name": "name", "label": "Name", "type": "string"}]})
    before = _version(db)
    response = _upload(root, json.dumps(document).encode())
    assert response.status_code == 200, response.get_data(as_text=True)[:3000]
    page = response.get_data(as_text=True)
    added = page[page.find('class="list-unstyled mb-0 cb-diff-added"'):page.find('id="cb-diff-changed"')]
    assert 'data-name="deal.region"' in added and 'data-name="supplier"' in added and 'data-name="supplier.name"' in added
    changed = page[page.find('class="list-unstyled mb-0 cb-diff-changed"'):page.find('id="cb-diff-removed"')]
    assert 'data-name="deal"' in changed and "label_plural" in changed and "Opportunities" in changed
    assert "Removed (0)" in page
    # nothing written yet; the document waits in a temporary file, not in the session
    assert _version(db) == before and not db.schema().has_object("supplier")
    token = re.search(r'name="token" value="([^"]+)"', page).group(1)
    assert len(list(tmp_path.glob(f"*-{token}.json"))) == 1
    assert token not in (root.get_cookie("session").value if root.get_cookie("session") else "")
    applied = root.post("/designer/solution/apply", data={"token": token})
    assert applied.status_code == 302
    schema = db.schema()
    assert schema.has_object("supplier") and schema.object("deal").has_field("region")
    assert schema.object("deal").label_plural == "Opportunities"
    assert list(tmp_path.glob("*.json")) == []
    log = root.get(applied.headers["Location"]).get_data(as_text=True)
    assert "The solution was imported" in log and 'data-action="batch"' in log
    # the token is used up
    again = root.post("/designer/solution/apply", data={"token": token})
    assert again.status_code == 410 and "Upload it again" in again.get_data(as_text=True)


def test_unchanged_document_says_so(root):
    page = _upload(root, json.dumps(_export(root)).encode()).get_data(as_text=True)
    assert "importing it would change nothing" in page


BAD = [
    (b"{not json", "the file is not valid JSON"),
    (b"", "the file is empty"),
    (b"\xff\xfe\x00garbage", "the file is not text in UTF-8"),
    (json.dumps({"format": "something-else", "format_version": 1, "objects": []}).encode(),
     "format: must be &#39;cardbase-solution&#39;"),
    (json.dumps({"format": "cardbase-solution", "format_version": 7, "objects": []}).encode(),
     "format_version: 7 is not supported"),
    (json.dumps({"format": "cardbase-solution", "format_version": 1, "objects": [
        {"name": "supplier", "label": "Supplier", "fields": [{"name": "x", "label": "X", "type": "hologram"}]}]}).encode(),
     "unknown field type &#39;hologram&#39; of field &#39;x&#39;"),
]


def test_bad_files_are_refused_with_a_clear_message(root, db, tmp_path):
    before = _version(db)
    for content, message in BAD:
        response = _upload(root, content)
        assert response.status_code == 422, content
        page = response.get_data(as_text=True)
        assert "nothing was changed" in page and message in page, (content, page[page.find("cb-form-errors"):][:600])
    big = b'{"format": "cardbase-solution", "pad": "' + b"x" * (5 * 1024 * 1024) + b'"}'
    response = _upload(root, big)
    assert response.status_code in (413, 422)
    assert "larger than 5 MB" in response.get_data(as_text=True)
    response = root.post("/designer/solution/preview", data={}, content_type="multipart/form-data")
    assert response.status_code == 422 and "choose a solution file" in response.get_data(as_text=True)
    assert _version(db) == before and list(tmp_path.glob("*.json")) == []


def test_a_document_import_refuses_changes_nothing(root, db):
    document = _export(root)
    document["objects"].append({"name": "supplier", "label": "Supplier", "fields": [
        {"name": "name", "label": "Name", "type": "string"},
        {"name": "org", "label": "Org", "type": "link", "options": {"target": "nowhere"}}]})
    before = _version(db)
    # The preview runs the whole import and rolls it back (issue 19/10): the refusal shows
    # already there, and there is nothing to apply.
    response = _upload(root, json.dumps(document).encode())
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "nowhere" in text and 'name="token"' not in text
    assert _version(db) == before and not db.schema().has_object("supplier")


def test_solutions_are_for_administrators_only(app, db, root):
    grant(db, "sam", "Deal designers", "deal", ["read", "configure"])
    sam = signed_in(app, "sam")
    assert sam.get("/designer/solution").status_code == 403
    assert sam.get("/designer/solution/export.json").status_code == 403
    assert _upload(sam, json.dumps(_export(root)).encode()).status_code == 403
    # another user's token does not work
    page = _upload(root, json.dumps(_export(root)).encode()).get_data(as_text=True)
    token = re.search(r'name="token" value="([^"]+)"', page).group(1)
    assert sam.post("/designer/solution/apply", data={"token": token}).status_code == 403
    assert root.post("/designer/solution/apply", data={"token": "../../etc/passwd"}).status_code == 410
    html = root.get("/designer/solution").get_data(as_text=True)
    assert 'for="cb-solution-file"' in html and "5 MB" in html


def _section(page: str, cls: str) -> list[str]:
    """The data-name of each entry of one list of the import preview (cb-diff-added, ...)."""
    start = page.find(f'class="list-unstyled mb-0 {cls}"')
    assert start >= 0, f"no list {cls}"
    return re.findall(r'data-name="([^"]+)"', page[start:page.find("</ul>\n", start)])


def test_preview_lists_what_would_be_removed_and_what_is_kept(root, db):
    """A document without Deal and without the VAT field keeps them (import removes no
    object or field); one that gives Organisation's labels in German only removes its
    English labels. The preview says both, and applying does exactly that."""
    SchemaService(db).set_translations(SYSTEM, "organisation", {"de": {"label": "Firma", "label_plural": "Firmen"},
                                                                "en": {"label": "Company", "label_plural": "Companies"}})
    document = _export(root)
    document["objects"] = [o for o in document["objects"] if o["name"] != "deal"]
    organisation = document["objects"][0]
    organisation["fields"] = [f for f in organisation["fields"] if f["name"] != "vat"]
    document["translations"] = [t for t in document["translations"]
                                if t["object"] == "organisation" and t["language"] == "de"]
    response = _upload(root, json.dumps(document).encode())
    assert response.status_code == 200, response.get_data(as_text=True)[:3000]
    page = response.get_data(as_text=True)
    assert _section(page, "cb-diff-removed") == ["organisation [en]"]
    assert "Removed (1)" in page
    kept = _section(page, "cb-diff-kept")
    assert kept[0] == "deal" and "organisation.vat" in kept
    assert "Kept as they are: %d entries" % len(kept) in page
    assert _section(page, "cb-diff-added") == [] and _section(page, "cb-diff-changed") == []
    token = re.search(r'name="token" value="([^"]+)"', page).group(1)
    assert root.post("/designer/solution/apply", data={"token": token}).status_code == 302
    schema = db.schema()
    assert schema.has_object("deal") and schema.object("organisation").has_field("vat")
    assert dict(schema.object("organisation").translations) == {"de": {"label": "Firma", "label_plural": "Firmen"}}
