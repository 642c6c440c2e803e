"""Helpers of the REST API tests: a small CRM on the test database, users with tokens and
a JSON client that sends them, and ``signed_in``, the one way the Flask tests log a user
in. Imported by the tests/platform/test_platform_*.py files (tests/platform is on
sys.path: pytest's rootdir-relative import of test modules).

The CRM and its users are copied from per-session template databases
(tests/db_templates.py) instead of being created by DDL in every test."""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable

from db_templates import from_template
from flask import Flask

from cardbase.platform import users
from cardbase.platform.api import tokens
from cardbase.platform.app import create_app
from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.schema_service import SchemaService
from cardbase.schema_engine.store.records import RecordStore

PASSWORD = "s3cret-password"
TEST_CONFIG = {"TESTING": True, "WTF_CSRF_ENABLED": False, "CARDBASE_LOGIN_SLEEP": lambda seconds: None}

CRM = [
    {"name": "organisation", "label": "Organisation", "label_plural": "Organisations", "fields": [
        {"name": "name", "label": "Name", "type": "string", "required": True, "options": {"length": 100}},
        {"name": "city", "label": "City", "type": "string"},
        {"name": "vat", "label": "VAT number", "type": "string", "unique": True},
    ]},
    {"name": "deal", "label": "Deal", "label_plural": "Deals", "code_pattern": "D-{00000}", "fields": [
        {"name": "title", "label": "Title", "type": "string", "required": True},
        {"name": "amount", "label": "Amount", "type": "money", "options": {"currency": "EUR", "currency_mode": "per_record"}},
        {"name": "quantity", "label": "Quantity", "type": "decimal", "options": {"precision": 10, "scale": 2}},
        {"name": "stage", "label": "Stage", "type": "choice", "default": "lead", "options": {"choices": [
            {"value": "lead", "label": "Lead"}, {"value": "won", "label": "Won", "color": "green"}]}},
        {"name": "tags", "label": "Tags", "type": "multi_choice", "options": {"choices": ["hot", "cold"]}},
        {"name": "close_date", "label": "Close date", "type": "date"},
        {"name": "probability", "label": "Probability", "type": "integer"},
        {"name": "secret_note", "label": "Secret note", "type": "text"},
        {"name": "organisation", "label": "Organisation", "type": "link",
         "options": {"target": "organisation", "on_delete": "restrict"}},
        {"name": "total", "label": "Total", "type": "formula", "options": {"formula": "[Amount] * [Quantity]"}},
    ]},
]


def build_crm(db) -> None:
    from_template(db, "api_crm", _create_crm)


def _create_crm(db) -> None:
    service = SchemaService(db)
    for spec in CRM:
        service.create_object(SYSTEM, spec)


def templated(db, name: str, *steps: Callable[[Any], Any]) -> None:
    """Run ``steps`` on ``db`` -- through a template database named after them and the
    password hasher in use (the users' hashes are in the template)."""
    hasher = _passwords()._hasher
    key = f"{name}_{hasher.time_cost}_{hasher.memory_cost}_{hasher.parallelism}"

    def build(database) -> None:
        for step in steps:
            step(database)
    from_template(db, key, build)


def _passwords():
    try:
        from cardbase.schema_engine.accounts import passwords
    except ImportError:  # before the accounts package
        from cardbase.platform import passwords
    return passwords


@dataclass
class Api:
    """A test client that sends JSON and a bearer token."""

    client: Any
    token: str | None = None

    def headers(self, extra: dict | None = None) -> dict[str, str]:
        out = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        out.update(extra or {})
        return out

    def call(self, method: str, url: str, body: Any = None, *, headers: dict | None = None, raw: bytes | None = None,
             content_type: str | None = None, query: dict | None = None):
        kwargs: dict[str, Any] = {"headers": self.headers(headers)}
        if query is not None:
            kwargs["query_string"] = {k: json.dumps(v) if isinstance(v, (dict, list)) else v for k, v in query.items()}
        if raw is not None:
            kwargs["data"] = raw
            kwargs["content_type"] = "application/json" if content_type is None else content_type
        elif body is not None:
            kwargs["data"] = json.dumps(body)
            kwargs["content_type"] = "application/json" if content_type is None else content_type
        return self.client.open(url, method=method, **kwargs)

    def get(self, url: str, **kw):
        return self.call("GET", url, **kw)

    def post(self, url: str, body: Any = None, **kw):
        return self.call("POST", url, body, **kw)

    def patch(self, url: str, body: Any = None, **kw):
        return self.call("PATCH", url, body, **kw)

    def put(self, url: str, body: Any = None, **kw):
        return self.call("PUT", url, body, **kw)

    def delete(self, url: str, **kw):
        return self.call("DELETE", url, **kw)

    def as_user(self, token: str) -> "Api":
        return Api(self.client.application.test_client(), token)


def make_app(db, **config) -> Flask:
    return create_app({**TEST_CONFIG, **config}, db=db)


def crm_app(db, **config) -> Flask:
    """The app over the test CRM with its users: what most API tests start from."""
    templated(db, "api_crm_users", _create_crm, _create_users)
    return make_app(db, **config)


def token_for(db, username: str) -> str:
    """A session token for the user, issued directly (the token endpoint is rate-limited)."""
    secret, _expires = tokens.issue_session_token(db, users.find_user(db, username))
    return secret


def api_for(app: Flask, db, username: str) -> Api:
    return Api(app.test_client(), token_for(db, username))


def error_of(response) -> dict[str, Any]:
    """The error object of a JSON error response, after checking the shape."""
    body = response.get_json()
    assert isinstance(body, dict) and set(body) == {"error"}, body
    error = body["error"]
    assert isinstance(error["code"], str) and isinstance(error["message"], str), error
    assert isinstance(error["fields"], dict), error
    assert all(isinstance(v, list) and all(isinstance(m, str) for m in v) for v in error["fields"].values()), error
    return error


def make_users(db) -> dict[str, Any]:
    """root (admin), sam and kim (no groups yet)."""
    templated(db, "api_users", _create_users)
    return {name: users.find_user(db, name) for name in ("root", "sam", "kim")}


def _create_users(db) -> None:
    users.create_user(db, "root", PASSWORD, is_admin=True)
    users.create_user(db, "sam", PASSWORD, display_name="Sam")
    users.create_user(db, "kim", PASSWORD, display_name="Kim")


def _sales_group(db) -> None:
    users.create_group(db, SYSTEM, "Sales")
    users.add_member(db, SYSTEM, "sam", "Sales")


def seed_orgs(db, n: int = 3) -> list[int]:
    return RecordStore(db).bulk_create(SYSTEM, "organisation", [
        {"name": f"Org {i}", "city": "Berlin" if i % 2 else "Hamburg", "vat": f"DE{i:04d}"} for i in range(n)])


def crm_app_with_sales(db, **config) -> Flask:
    """``crm_app`` with sam in a group "Sales" that holds no rights yet (each test grants them)."""
    templated(db, "api_crm_sales", _create_crm, _create_users, _sales_group)
    return make_app(db, **config)


def signed_in(app: Flask, username: str, password: str = PASSWORD):
    """A Flask test client logged in as ``username`` through the login form (a session
    cookie, as a browser has it)."""
    client = app.test_client()
    response = client.post("/login", data={"username": username, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return client
