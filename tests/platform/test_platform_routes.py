"""Every Flask route, with every method, refuses anonymous users -- except login, health,
static files and public web forms -- and what a logged-in user sees follows their rights."""
from __future__ import annotations

import re

import pytest
from flask import Flask

from cardbase.platform import users
from cardbase.platform.app import PUBLIC_ENDPOINTS, create_app
from cardbase.schema_engine import rights
from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.schema_service import SchemaService
from cardbase.schema_engine.store.records import RecordStore

PASSWORD = "s3cret-password"
TEST_CONFIG = {"TESTING": True, "WTF_CSRF_ENABLED": False, "CARDBASE_LOGIN_SLEEP": lambda seconds: None}
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
# What may be reached without logging in. Public web forms, when they come, are endpoints
# of the "public_forms" blueprint and must be listed in PUBLIC_ENDPOINTS one by one.
ALLOWED_PUBLIC = {"auth.login", "core.health", "static"}


def is_public_form(endpoint: str) -> bool:
    return endpoint.startswith("public_forms.")


@pytest.fixture
def app(db) -> Flask:
    users.create_user(db, "root", PASSWORD, is_admin=True)
    return create_app(TEST_CONFIG, db=db)


def _url(rule) -> str:
    values = {}
    for arg in rule.arguments:
        converter = rule._converters[arg].__class__.__name__
        values[arg] = 1 if converter in ("IntegerConverter", "NumberConverter") else "cardbase.css"
    return rule.build(values, append_unknown=False)[1]


def test_every_route_and_method_refuses_anonymous_users(app):
    client = app.test_client()
    rules = list(app.url_map.iter_rules())
    assert {r.endpoint for r in rules} >= {"auth.login", "auth.logout", "core.home", "core.health", "static"}
    assert set(PUBLIC_ENDPOINTS) - ALLOWED_PUBLIC == {e for e in PUBLIC_ENDPOINTS if is_public_form(e)}
    guarded = 0
    for rule in rules:
        url = _url(rule)
        public = rule.endpoint in PUBLIC_ENDPOINTS
        for method in METHODS:
            response = client.open(url, method=method)
            where = (rule.rule, rule.endpoint, method, response.status_code)
            if method not in rule.methods:
                assert response.status_code == 405, where  # refused before any view runs
                continue
            if public:
                assert response.status_code < 400 or response.status_code == 404, where
                assert "/login?next=" not in response.headers.get("Location", ""), where
                continue
            guarded += 1
            if method in ("GET", "HEAD"):
                assert response.status_code == 302, where
                assert response.headers["Location"].startswith("/login?next="), where
            else:
                assert response.status_code == 401, where
                assert response.get_json() == {"error": "Unauthorized", "message": "log in first"}, where
    assert guarded >= 3


def test_static_files_are_public_but_stay_inside_the_static_folder(app):
    client = app.test_client()
    assert client.get("/static/cardbase.css").status_code == 200
    for probe in ("/static/../app.py", "/static/%2e%2e/app.py", "/static/..%2fapp.py"):
        response = client.get(probe)
        assert response.status_code in (404, 302), probe
        assert b"create_app" not in response.get_data()


def test_home_lists_only_the_objects_the_user_may_read(db, app):
    svc, store = SchemaService(db), RecordStore(db)
    for name in ("client", "invoice"):
        svc.create_object(SYSTEM, {"name": name, "label": name.title(), "label_plural": name.title() + "s",
                                   "fields": [{"name": "name", "label": "Name", "type": "string"}]})
        store.bulk_create(SYSTEM, name, [{"name": "a"}, {"name": "b"}])
    users.create_user(db, "sam", PASSWORD)
    sales = users.create_group(db, SYSTEM, "Sales")
    users.add_member(db, SYSTEM, "sam", "Sales")
    client = app.test_client()
    client.post("/login", data={"username": "sam", "password": PASSWORD})
    html = client.get("/").get_data(as_text=True)
    assert "Clients" not in html and "Invoices" not in html
    assert "ask an administrator" in html
    rights.set_object_rights(db, SYSTEM, sales.id, "client", ["read"])
    html = client.get("/").get_data(as_text=True)
    assert re.search(r'data-object="client">\s*<td>Clients</td>\s*<td class="num">2</td>', html), html
    assert "Invoices" not in html
