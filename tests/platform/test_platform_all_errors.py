"""Issue 14, point 6: a save reports every problem at once -- a required field left empty
together with a value that does not parse -- on the web card (English and German) and in
the API; a unique e-mail compares as e-mails compare (case-insensitively), in the store's
check and in the database's own unique index, on both engines."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from cardbase.platform import users
from cardbase.platform.app import create_app
from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.errors import SchemaError, ValidationError
from cardbase.schema_engine.schema_service import SchemaService
from cardbase.schema_engine.store.records import RecordStore

from api_testlib import PASSWORD, TEST_CONFIG, api_for, error_of, signed_in


def build(db) -> None:
    SchemaService(db).create_object(SYSTEM, {
        "name": "client", "label": "Client", "label_plural": "Clients", "fields": [
            {"name": "company", "label": "Company", "type": "string", "required": True},
            {"name": "email", "label": "E-mail", "type": "email", "unique": True},
            {"name": "staff", "label": "Staff", "type": "integer"}]})
    RecordStore(db).create(SYSTEM, "client", {"company": "Acme", "email": "info@acme.de"})
    users.create_user(db, "root", PASSWORD, is_admin=True)
    users.create_user(db, "grete", PASSWORD, is_admin=True, language="de")


@pytest.fixture
def app(db):
    build(db)
    return create_app(TEST_CONFIG, db=db)


def _field_errors(body: str, name: str) -> str:
    start = body.find(f'id="cb-f-{name}-error"')
    assert start >= 0, f"no error shown for {name}"
    return body[start:body.find("</div>", start)]


def test_a_new_card_shows_the_required_and_the_format_error_together(app, db):
    client = signed_in(app, "root")
    response = client.post("/o/client/new", data={"f-company": "", "f-email": "not-an-address", "f-staff": "12"})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "is not a valid e-mail address" in _field_errors(body, "email")
    assert "is required" in _field_errors(body, "company")
    assert RecordStore(db).count(SYSTEM, "client")[0] == 1


def test_the_german_card_shows_both_in_german(app, db):
    client = signed_in(app, "grete")
    response = client.post("/o/client/new", data={"f-company": "", "f-email": "kaputt", "f-staff": "x"})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "ist ein Pflichtfeld" in _field_errors(body, "company")
    assert "keine gültige E-Mail-Adresse" in _field_errors(body, "email")
    assert _field_errors(body, "staff")  # three problems, one save


def test_an_existing_card_reports_the_unique_clash_beside_a_bad_number(app, db):
    store = RecordStore(db)
    other = store.create(SYSTEM, "client", {"company": "Beta", "email": "sales@beta.de"})
    client = signed_in(app, "root")
    page = client.get(f"/o/client/{other['id']}").get_data(as_text=True)
    version = str(other["version"])
    assert f'name="_version" value="{version}"' in page
    response = client.post(f"/o/client/{other['id']}", data={
        "_version": version, "f-company": "", "f-email": "INFO@ACME.DE", "f-staff": "many"})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "is not a number" in _field_errors(body, "staff") or "whole number" in _field_errors(body, "staff")
    assert "is required" in _field_errors(body, "company")
    assert "must be unique" in _field_errors(body, "email")
    assert store.get(SYSTEM, "client", other["id"])["version"] == 1


def test_the_api_reports_every_problem_of_a_record_at_once(app, db):
    api = api_for(app, db, "root")
    response = api.post("/api/v1/records/client", {"email": "INFO@Acme.de", "staff": "many"})
    assert response.status_code in (400, 422)
    fields = error_of(response)["fields"]
    assert fields["company"] == ["is required"]
    assert any("must be unique" in m for m in fields["email"])
    assert fields["staff"]
    response = api.post("/api/v1/records/client", {"email": "bad address"})
    fields = error_of(response)["fields"]
    assert set(fields) == {"company", "email"}


def test_a_unique_email_ignores_case_in_the_store_and_in_the_database(db):
    build(db)
    store = RecordStore(db)
    with pytest.raises(ValidationError) as err:
        store.create(SYSTEM, "client", {"company": "Copy", "email": "INFO@acme.de"})
    assert "must be unique: 'INFO@acme.de' is already used by" in err.value.errors["email"][0]
    with pytest.raises(ValidationError) as err:  # inside one batch too
        store.bulk_create(SYSTEM, "client", [{"company": "A", "email": "x@b.de"}, {"company": "B", "email": "X@b.de"}])
    assert "used twice in this batch" in str(err.value.to_dict())
    # the database's unique index compares lower(e-mail): a write past the store is refused too
    obj = db.schema().object("client")
    beta = store.create(SYSTEM, "client", {"company": "Beta", "email": "sales@beta.de"})
    column = obj.field("email").column
    with db.engine.connect() as conn:
        with pytest.raises(sa.exc.IntegrityError):
            with conn.begin():
                conn.execute(sa.text(f'UPDATE "{obj.table_name}" SET "{column}" = :v WHERE id = :id'),
                             {"v": "INFO@acme.de", "id": beta["id"]})
    # a mailbox of a trashed record is free again, in any case
    first = next(r for r in store.list(SYSTEM, "client").data if r["email"] == "info@acme.de")
    store.delete(SYSTEM, "client", first["id"])
    assert store.create(SYSTEM, "client", {"company": "Again", "email": "Info@Acme.de"})["email"] == "Info@acme.de"


def test_making_an_email_field_unique_refuses_case_duplicates(db):
    svc, store = SchemaService(db), RecordStore(db)
    svc.create_object(SYSTEM, {"name": "person", "label": "Person", "label_plural": "People", "fields": [
        {"name": "email", "label": "E-mail", "type": "email"}]})
    store.bulk_create(SYSTEM, "person", [{"email": "ann@x.de"}, {"email": "ANN@x.de"}])
    with pytest.raises(SchemaError) as err:
        svc.update_field(SYSTEM, "person", "email", {"unique": True})
    assert "duplicate" in str(err.value.to_dict())
