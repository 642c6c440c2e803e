"""Helpers of the configurator's Flask tests (test_platform_designer_*.py): the API tests'
small CRM (organisation, deal with a formula), users with and without the configure
right, a logged-in test client and the hidden form state of a designer page."""
from __future__ import annotations

import re
from typing import Any

from api_testlib import PASSWORD, build_crm, make_app, make_users

from cardbase.platform import users
from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.rights import admin as rights_admin


def designer_app(db, **config):
    """root (admin); sam (reads and edits deals and organisations, no configure right);
    kim (configure right on deals only, in group Designers)."""
    build_crm(db)
    make_users(db)
    users.create_group(db, SYSTEM, "Sales")
    users.add_member(db, SYSTEM, "sam", "Sales")
    users.create_group(db, SYSTEM, "Designers")
    users.add_member(db, SYSTEM, "kim", "Designers")
    for name in ("organisation", "deal"):
        rights_admin.set_object_rights(db, SYSTEM, "Sales", name, ["read", "create", "edit"])
    rights_admin.set_object_rights(db, SYSTEM, "Designers", "deal", ["read", "configure"])
    rights_admin.set_object_rights(db, SYSTEM, "Designers", "organisation", ["read"])
    return make_app(db, **config)


def client_for(app, username: str):
    client = app.test_client()
    response = client.post("/login", data={"username": username, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return client


def form_state(html: str) -> dict[str, str]:
    """The hidden schema_version and fingerprint of the (first) designer form on a page."""
    out = {}
    for name in ("schema_version", "fingerprint"):
        found = re.search(rf'name="{name}" value="([^"]*)"', html)
        assert found, f"no {name} on the page"
        out[name] = found.group(1)
    return out


def page(client, url: str) -> tuple[str, dict[str, str]]:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code, response.get_data(as_text=True)[:2000])
    html = response.get_data(as_text=True)
    return html, form_state(html)


def text_of(response) -> str:
    """The page's text without tags and with entities decoded, for message checks."""
    import html as html_lib

    raw = response.get_data(as_text=True)
    return html_lib.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", raw)))


def error_under(response, key: str) -> str:
    """The message shown under the input of engine key ``key`` (e.g. "options.length")."""
    import html as html_lib

    raw = response.get_data(as_text=True)
    found = re.search(rf'data-error-for="{re.escape(key)}">([^<]*)<', raw)
    assert found, f"no error shown under {key}: {text_of(response)[:3000]}"
    return html_lib.unescape(found.group(1))


def field_form(state: dict[str, str], **values: Any) -> dict[str, Any]:
    """A field form as the browser posts it: state, label, type, options as <type>.<opt>."""
    data: dict[str, Any] = {**state, "type": "string", "help_text": "", "default": ""}
    data.update(values)
    return data
