"""The REST API of Word templates and documents (issue 16, point 8): templates of an
object (multipart upload, versions, change, delete), documents of a record and a .zip of
several, in the OpenAPI description; the bad inputs answer clear errors."""
from __future__ import annotations

import io
import zipfile

import pytest
from api_testlib import PASSWORD, error_of, make_app, token_for, Api
from invoice_fixture import build, docx_with, invoice_docx, order_with_lines, texts

from cardbase.doc_templates import pdf
from cardbase.platform import users
from cardbase.schema_engine.store import RecordStore

BASE = "/api/v1/objects/order/templates"


@pytest.fixture
def app(db):
    build(db)
    users.create_user(db, "root", PASSWORD, is_admin=True)
    return make_app(db)


def _api(app, db, username="root") -> Api:
    return Api(app.test_client(), token_for(db, username))


def _upload(api: Api, content: bytes, method="POST", url=BASE, filename="invoice.docx", **fields):
    data = {"file": (io.BytesIO(content), filename), **fields} if content is not None else dict(fields)
    return api.client.open(url, method=method, data=data, headers=api.headers(), content_type="multipart/form-data")


def test_upload_list_read_change_and_delete_a_template(app, db):
    api = _api(app, db)
    content = invoice_docx()
    created = _upload(api, content, name="Invoice", description="tutorial", language="de",
                      groups="Clerks, Juniors")
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert created.headers["Location"] == f"{BASE}/{body['id']}"
    assert {k: body[k] for k in ("name", "description", "language", "groups", "version", "problems")} == {
        "name": "Invoice", "description": "tutorial", "language": "de", "groups": ["Clerks", "Juniors"],
        "version": 1, "problems": []}
    assert [t["name"] for t in api.get(BASE).get_json()["data"]] == ["Invoice"]
    changed = _upload(api, docx_with(["v2 {{ order.code }}"]), method="PUT", url=f"{BASE}/{body['id']}",
                      filename="v2.docx", name="Invoice 2")
    assert changed.status_code == 200, changed.get_json()
    assert (changed.get_json()["version"], changed.get_json()["name"]) == (2, "Invoice 2")
    renamed = api.put(f"{BASE}/{body['id']}", {"description": "JSON change", "groups": []})
    assert (renamed.get_json()["description"], renamed.get_json()["groups"], renamed.get_json()["version"]) == (
        "JSON change", [], 2)
    first = api.get(f"{BASE}/{body['id']}/file", query={"version": 1})
    assert first.status_code == 200 and first.data == content
    assert 'filename=invoice.docx' in first.headers["Content-Disposition"]
    assert api.delete(f"{BASE}/{body['id']}").status_code == 204
    assert api.get(f"{BASE}/{body['id']}").status_code == 404
    assert api.get(BASE).get_json()["data"] == []


def test_a_document_of_a_record_and_a_zip_of_several(app, db):
    store = RecordStore(db)
    first, second = order_with_lines(store, 3), order_with_lines(store, 1, title="Second")
    api = _api(app, db)
    template_id = _upload(api, invoice_docx(), name="Invoice", language="en").get_json()["id"]
    response = api.post(f"/api/v1/records/order/{first}/documents/{template_id}")
    assert response.status_code == 200, response.data[:300]
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    assert "Invoice INV-0001.docx" in response.headers["Content-Disposition"]
    paragraphs, rows = texts(response.data)
    assert paragraphs[3:5] == ["Total: €143.00", "In words: one hundred and forty-three euro, zero cents"]
    assert len(rows) == 5
    archive = api.post(f"/api/v1/records/order/documents/{template_id}", {"ids": [first, second]})
    assert archive.status_code == 200 and archive.mimetype == "application/zip"
    with zipfile.ZipFile(io.BytesIO(archive.data)) as z:
        assert z.namelist() == ["Invoice INV-0001.docx", "Invoice INV-0002.docx"]
        assert texts(z.read("Invoice INV-0002.docx"))[1][1] == ["Product 1", "€10.50", "1", "10.50"]


def test_rights_and_bad_requests_of_documents(app, db):
    store = RecordStore(db)
    order_id = order_with_lines(store)
    api = _api(app, db)
    template_id = _upload(api, invoice_docx(), name="Invoice").get_json()["id"]
    junior = _api(app, db, "junior")
    hidden = junior.post(f"/api/v1/records/order/{order_id}/documents/{template_id}")
    assert hidden.status_code == 403
    assert error_of(hidden)["message"] == "the template uses the field 'order.client.phone', which is hidden from you"
    unseen = api.post(f"/api/v1/records/order/999/documents/{template_id}")
    assert unseen.status_code == 404 and "there is no 'Order' record with id 999" in error_of(unseen)["message"]
    assert api.post(f"/api/v1/records/order/{order_id}/documents/77").status_code == 404
    assert junior.get(f"{BASE}/{template_id}").status_code == 403  # managing needs the configure right
    assert [t["name"] for t in junior.get(BASE).get_json()["data"]] == ["Invoice"]  # but they may use it
    assert "problems" not in junior.get(BASE).get_json()["data"][0]
    refused = _upload(junior, invoice_docx(), name="Mine")
    assert refused.status_code == 403
    bad_ids = api.post(f"/api/v1/records/order/documents/{template_id}", {"ids": ["x"]})
    assert bad_ids.status_code == 400 and error_of(bad_ids)["fields"] == {"ids": ["'ids' must be a list of record ids"]}
    wrong = api.post(f"/api/v1/records/order/{order_id}/documents/{template_id}", query={"format": "odt"})
    assert wrong.status_code == 422 and "'odt' is not a document format" in error_of(wrong)["message"]


def test_unknown_placeholders_are_refused_with_the_report(app, db):
    api = _api(app, db)
    response = _upload(api, docx_with(["{{ client.compnay }}"]), name="Bad")
    assert response.status_code == 422
    body = response.get_json()["error"]
    assert body["problems"] == [{"text": "{{ client.compnay }}", "place": "paragraph 1",
                                 "message": "'client' has no field or child list 'compnay'", "suggestion": "company"}]
    assert body["fields"]["file"] == ["paragraph 1: {{ client.compnay }}: 'client' has no field or child list "
                                      "'compnay' (did you mean 'company'?)"]
    assert api.get(BASE).get_json()["data"] == []


@pytest.mark.parametrize("content, filename, status, message", [
    (b"PK\x03\x04broken", "x.docx", 422, "x.docx is damaged or not a Word document (.docx)"),
    (b"anything", "x.docm", 422, "x.docm is a macro-enabled document"),
    (b"\x00" * (50 * 1024 * 1024), "big.docx", 413, "the file is 50.0 MB; a template may have at most 10 MB"),
], ids=["corrupt", "docm", "50 MB"])
def test_bad_uploads(app, db, content, filename, status, message):
    api = _api(app, db)
    response = _upload(api, content, filename=filename, name="X")
    assert response.status_code == status
    assert message in error_of(response)["message"]
    assert api.get(BASE).get_json()["data"] == []


def test_missing_file_and_wrong_content_type(app, db):
    api = _api(app, db)
    missing = _upload(api, None, name="X")
    assert missing.status_code == 400 and error_of(missing)["fields"] == {"file": ["send the .docx in the form field "
                                                                                  "'file'"]}
    as_json = api.post(BASE, {"name": "X"})
    assert as_json.status_code == 415


def test_a_template_of_a_deleted_or_unknown_object(app, db):
    api = _api(app, db)
    response = api.get("/api/v1/objects/gone/templates")
    assert response.status_code == 404 and error_of(response)["message"] == "there is no object 'gone'"
    assert _upload(api, invoice_docx(), url="/api/v1/objects/gone/templates", name="X").status_code == 404
    template_id = _upload(api, invoice_docx(), name="Invoice").get_json()["id"]
    in_use = api.delete("/api/v1/objects/order_line")
    assert in_use.status_code == 409 and "document template 'Invoice' of Orders uses it" in \
        " ".join(error_of(in_use)["usages"])
    assert api.get(f"{BASE}/{template_id}").status_code == 200


def test_the_starter_template_and_the_openapi_description(app, db):
    api = _api(app, db)
    starter = api.get(f"{BASE}/starter", query={"language": "de"})
    assert starter.status_code == 200
    paragraphs, rows = texts(starter.data)
    assert paragraphs[0] == "Order {{ order.code }}" and ["Title", "{{ title }}"] in rows
    document = api.get("/api/openapi.json").get_json()
    paths = document["paths"]
    assert set(paths[BASE.replace("order", "{object_name}")]) == {"get", "post"}
    assert set(paths["/api/v1/objects/{object_name}/templates/{template_ref}"]) == {"get", "put", "delete"}
    assert "multipart/form-data" in paths["/api/v1/objects/{object_name}/templates"]["post"]["requestBody"]["content"]
    post = paths["/api/v1/records/order/{id}/documents/{template_ref}"]["post"]
    fmt = next(p for p in post["parameters"] if p["name"] == "format")
    assert fmt["schema"]["enum"] == (["docx", "pdf"] if pdf.available() else ["docx"])
    assert "/api/v1/records/order/documents/{template_ref}" in paths
    assert "DocTemplate" in document["components"]["schemas"]


def test_format_pdf_where_libreoffice_is_installed(app, db):
    order_id = order_with_lines(RecordStore(db), 1)
    api = _api(app, db)
    template_id = _upload(api, invoice_docx(), name="Invoice").get_json()["id"]
    response = api.post(f"/api/v1/records/order/{order_id}/documents/{template_id}", query={"format": "pdf"})
    if pdf.available():
        assert response.status_code == 200 and response.mimetype == "application/pdf"
        assert response.data.startswith(b"%PDF-") and "Invoice INV-0001.pdf" in response.headers["Content-Disposition"]
    else:
        assert response.status_code == 422
        assert error_of(response)["fields"] == {"format": ["PDF is not available: LibreOffice is not installed on "
                                                           "the server"]}
