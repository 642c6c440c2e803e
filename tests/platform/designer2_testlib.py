"""Helpers of the card/table designer, rules, log and solution tests
(tests/platform/test_platform_designer_*.py): the API tests' small CRM with its users,
signed-in test clients, and the object-configure right for a group."""
from __future__ import annotations

import json
import re

from api_testlib import PASSWORD, crm_app, signed_in, templated  # noqa: F401  (re-exported for the tests)

from cardbase.platform import users
from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.rights import admin as rights_admin


def demo_crm(db) -> None:
    """An initialised database (admin's password: PASSWORD) with the demo CRM's objects and
    no records, copied from a template database (tests/db_templates.py)."""
    templated(db, "demo_crm", _demo_crm)


def _demo_crm(db) -> None:
    from cardbase.platform.cli import initialise
    from cardbase.platform.demo import demo_solution
    from cardbase.schema_engine.solution import import_solution

    initialise(db)
    users.set_password(db, "admin", PASSWORD)
    import_solution(db, demo_solution())


def grant(db, username: str, group: str, obj: str, rights) -> None:
    """Put ``username`` in ``group`` (created when missing) with ``rights`` on ``obj``."""
    if not any(g["name"] == group for g in users.list_groups(db)):
        users.create_group(db, SYSTEM, group)
    users.add_member(db, SYSTEM, username, group)
    rights_admin.set_object_rights(db, SYSTEM, group, obj, rights)


def hidden(html: str, name: str) -> str:
    """The value of a hidden input of a page."""
    m = re.search(r'<input type="hidden" name="%s"[^>]*value="([^"]*)"' % re.escape(name), html)
    assert m, f"no hidden input {name}"
    import html as html_lib
    return html_lib.unescape(m.group(1))


def embedded_json(html: str, element_id: str):
    m = re.search(r'<script type="application/json" id="%s">(.*?)</script>' % re.escape(element_id), html, re.S)
    assert m, f"no JSON block {element_id}"
    return json.loads(m.group(1))


def end_user_page(client, url: str):
    """The end user's page at ``url`` (a card or a list) parsed with lxml, after checking it opened."""
    import lxml.html

    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return lxml.html.fromstring(response.get_data(as_text=True))
