"""The configuration log (/designer/log): who (display name), when (the user's locale),
action, target and details, newest first, paged, filtered by object; administrators see
everything, configure-right users only the objects they may configure."""
from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from designer2_testlib import crm_app, grant, signed_in

from cardbase.platform import users
from cardbase.platform.context import actor_for
from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.layouts import cards as layouts
from cardbase.schema_engine.meta_models import ConfigChange
from cardbase.schema_engine.schema_service import SchemaService


@pytest.fixture
def app(db):
    app = crm_app(db)  # objects created by the system
    grant(db, "sam", "Deal designers", "deal", ["read", "configure"])
    sam = actor_for(users.find_user(db, "sam"), db)
    root = actor_for(users.find_user(db, "root"), db)
    SchemaService(db).add_field(root, "organisation", {"name": "web", "label": "Website", "type": "url"})
    SchemaService(db).add_field(sam, "deal", {"name": "region", "label": "Region", "type": "string"})
    layouts.save_card(db, sam, "deal", "Quick entry", {"tabs": [{"label": "", "sections": [
        {"label": "", "columns": 1, "items": [{"field": "title"}]}]}]})
    return app


def _rows(html: str) -> list[str]:
    return re.findall(r'<tr data-action="([a-z_.]+)">', html)


def test_admin_sees_every_change_newest_first_with_who_and_what(app, db):
    html = signed_in(app, "root").get("/designer/log").get_data(as_text=True)
    actions = _rows(html)
    assert actions[:3] == ["save_card", "add_field", "add_field"]
    assert actions.count("create_object") == 2
    first = html[html.find('<tr data-action="save_card">'):]
    first = first[:first.find("</tr>")]
    assert "Sam" in first and "card saved" in first and "deal/card:Quick entry" in first and "Quick entry" in first
    assert "the system" in html  # the objects were created by the system
    assert re.search(r'<time datetime="\d{4}-\d\d-\d\dT[\d:.]+Z">[A-Z][a-z]{2} \d{1,2}, \d{4}', first)


def test_filter_by_object(app, db):
    root = signed_in(app, "root")
    html = root.get("/designer/log?object=organisation").get_data(as_text=True)
    assert _rows(html) == ["add_field", "create_object"]
    assert "organisation.web" in html and "deal" not in "".join(re.findall(r"<code>(.*?)</code>", html))
    assert root.get("/designer/log?object=nothing").status_code == 404


def test_configure_right_users_see_only_their_objects(app, db):
    sam = signed_in(app, "sam")
    html = sam.get("/designer/log").get_data(as_text=True)
    assert _rows(html) == ["save_card", "add_field", "rights.object", "create_object"]
    assert "organisation.web" not in html
    assert sam.get("/designer/log?object=organisation").status_code == 403
    kim = signed_in(app, "kim")  # no configure right at all
    assert kim.get("/designer/log").status_code == 403


def test_times_follow_the_users_language(app, db):
    users.update_user(db, SYSTEM, "root", language="de")
    html = signed_in(app, "root").get("/designer/log").get_data(as_text=True)
    assert re.search(r'<time datetime="[^"]+">\d{2}\.\d{2}\.\d{4}, \d{2}:\d{2}:\d{2}</time>', html), \
        re.findall(r"<time[^>]*>[^<]*</time>", html)[:2]


def test_paging(app, db):
    start = datetime(2020, 1, 1)
    with db.write() as conn:
        conn.execute(sa.insert(ConfigChange), [
            {"actor_id": None, "at": start + timedelta(minutes=i), "action": "update_object",
             "target": f"organisation.x{i}", "details": {"n": i}} for i in range(60)])
    root = signed_in(app, "root")
    page1 = root.get("/designer/log").get_data(as_text=True)
    assert len(_rows(page1)) == 50 and "Page 1 of 2" in page1
    page2 = root.get("/designer/log?page=2").get_data(as_text=True)
    rows2 = _rows(page2)
    assert len(rows2) == 60 + 6 - 50  # 60 old entries + the 6 of the fixture
    assert "organisation.x0" in page2 and "organisation.x0<" not in page1
    assert root.get("/designer/log?page=abc").status_code == 200

