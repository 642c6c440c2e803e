"""Word templates in the configurator (issue 16, point 6): the template list with upload,
the validation report with each problem's text, place and "did you mean", versions,
settings, delete, the starter template and the placeholder cheat-sheet; bad uploads are
refused on the page and change nothing."""
from __future__ import annotations

import io

import pytest
from api_testlib import PASSWORD, make_app, signed_in
from invoice_fixture import build, docx_with, invoice_docx, texts

from cardbase.doc_templates import storage
from cardbase.platform import users
from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.schema_service import SchemaService
from cardbase.schema_engine.store import RecordStore

PAGE = "/designer/objects/order/templates"


@pytest.fixture
def app(db):
    build(db)
    users.create_user(db, "root", PASSWORD, is_admin=True)
    users.create_user(db, "carla", PASSWORD)
    users.add_member(db, SYSTEM, "carla", "Clerks")
    return make_app(db)


def _post(client, url, content, filename="invoice.docx", **fields):
    data = {"name": "Invoice", "language": "en", **fields}
    if content is not None:
        data["file"] = (io.BytesIO(content), filename)
    return client.post(url, data=data, content_type="multipart/form-data")


def test_the_template_list_with_upload_report_and_cheat_sheet(app, db):
    client = signed_in(app, "root")
    page = client.get(PAGE).get_data(as_text=True)
    assert 'id="cb-nav-templates"' in page and 'id="cb-templates-none"' in page
    for placeholder in ("{{ order.title }}", "{{ order.client.company }}", "{%tr for item in order_line %}",
                        "{{ item.price }}", "{%tr endfor %}", "{{ order_line|total(&#39;cost&#39;) }}",
                        "{{ order.deposit|in_words }}"):
        assert placeholder in page, placeholder
    saved = _post(client, PAGE, invoice_docx(), groups=["Clerks"], description="The tutorial's invoice")
    assert saved.status_code == 302
    edit = client.get(saved.headers["Location"]).get_data(as_text=True)
    assert "Template &#39;Invoice&#39; saved." in edit and 'id="cb-template-report"' not in edit
    assert "Every placeholder names a field or child list of Orders." in edit
    listing = client.get(PAGE).get_data(as_text=True)
    assert ">Invoice</a>" in listing and ">fits<" in listing and "Clerks" in listing


def test_a_refused_upload_shows_each_problem_and_saves_nothing(app, db):
    client = signed_in(app, "root")
    response = _post(client, PAGE, docx_with(["{{ client.compnay }}"], table=[["{{ order.titel }}"]]))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "some placeholders do not fit the metadata" in page
    assert "<td>paragraph 1</td><td><code>{{ client.compnay }}</code></td>" in page
    assert "<td><code>company</code></td>" in page
    assert "<td>table 1, row 1, cell 1</td>" in page and "<td><code>title</code></td>" in page
    assert 'value="Invoice"' in page  # the form keeps what was typed
    assert storage.list_templates(RecordStore(db), SYSTEM, "order", manage=True) == []


@pytest.mark.parametrize("content, filename, status, message", [
    (b"not a zip at all", "x.docx", 422, "x.docx is damaged or not a Word document (.docx)"),
    (b"anything", "x.docm", 422, "x.docm is a macro-enabled document"),
    (b"\x00" * (50 * 1024 * 1024), "big.docx", 413, "The file is 50.0 MB; a template may have at most 10 MB."),
    (None, "", 422, "Choose the .docx file to upload."),
], ids=["corrupt", "docm", "50 MB", "no file"])
def test_bad_uploads_are_refused_on_the_page(app, db, content, filename, status, message):
    client = signed_in(app, "root")
    response = _post(client, PAGE, content, filename)
    assert response.status_code == status
    assert message in response.get_data(as_text=True)
    assert storage.list_templates(RecordStore(db), SYSTEM, "order", manage=True) == []


def test_versions_settings_download_delete_and_the_live_report(app, db):
    client = signed_in(app, "root")
    edit_url = _post(client, PAGE, docx_with(["{{ order.margin.amount }}"])).headers["Location"]
    assert "Every placeholder names a field" in client.get(edit_url).get_data(as_text=True)
    SchemaService(db).update_field(SYSTEM, "order", "margin", {"type": "string"})  # the object changes
    page = client.get(edit_url).get_data(as_text=True)
    assert "These placeholders no longer fit" in page and 'id="cb-template-report"' in page
    assert "&#39;margin&#39; is a string field: it has no &#39;amount&#39;" in page
    assert ">1 problems<" in client.get(PAGE).get_data(as_text=True)
    refused = _post(client, edit_url, docx_with(["{{ order.margin.amount }}"]), name="Invoice 2")
    assert refused.status_code == 422 and "The new version was not saved" in refused.get_data(as_text=True)
    updated = _post(client, edit_url, docx_with(["v2 {{ order.margin }}"]), filename="v2.docx", name="Invoice 2",
                    language="de")
    assert updated.status_code == 302
    page = client.get(edit_url).get_data(as_text=True)
    assert "Version 2: v2.docx" in page and "Version 1: invoice.docx" in page and 'value="Invoice 2"' in page
    assert "Every placeholder names a field" in page
    first = client.get(edit_url + "/file?version=1")
    assert texts(first.data)[0] == ["{{ order.margin.amount }}"]
    deleted = client.post(edit_url + "/delete")
    assert deleted.status_code == 302 and deleted.headers["Location"] == PAGE
    assert client.get(edit_url).status_code == 404


def test_the_starter_template_download(app):
    client = signed_in(app, "root")
    response = client.get(PAGE + "/starter.docx?language=en")
    assert response.status_code == 200 and "order-starter.docx" in response.headers["Content-Disposition"]
    paragraphs, rows = texts(response.data)
    assert ["Client", "{{ client }}"] in rows and ["{%tr for item in order_line %}", "", "", ""] in rows


def test_only_who_may_configure_the_object_sees_the_pages(app):
    client = signed_in(app, "carla")
    assert client.get(PAGE).status_code == 403
    assert client.get(PAGE + "/starter.docx").status_code == 403
