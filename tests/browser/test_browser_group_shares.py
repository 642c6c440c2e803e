"""Deleting a group that records are shared with, in Chromium (English and German, desktop
and phone width): the admin screen refuses, names how many records of which object are
shared with the group, and the group and its shares stay."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from cardbase.platform import users
from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.query.model import ListQuery
from cardbase.schema_engine.rights_models import Share
from cardbase.schema_engine.store.records import RecordStore

WIDTHS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
NAMED = {"en": ("cannot be deleted while rights refer to it", "record shares on Deals: 3"),
         "de": ("kann nicht gelöscht werden, solange Rechte auf sie verweisen", "Datensatzfreigaben auf Verkaufschancen: 3")}


@pytest.fixture(scope="module")
def partners(site) -> int:
    store = RecordStore(site.db)
    group = users.create_group(site.db, SYSTEM, "Partners")
    for deal in store.list(SYSTEM, "deal", ListQuery(limit=3)).data:
        store.share(SYSTEM, "deal", deal["id"], group="Partners", level="read")
    return group.id


def _shares(site, gid: int) -> int:
    with site.db.read() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(Share).where(Share.group_id == gid)).scalar_one()


@pytest.mark.parametrize("language", ["en", "de"])
@pytest.mark.parametrize("width", ["desktop", "phone"])
def test_the_admin_is_told_how_many_shares_keep_the_group(page, site, login, screenshot, partners, language, width):
    users.update_user(site.db, SYSTEM, "admin", language=language)
    try:
        login(page, "admin")
        page.set_viewport_size(WIDTHS[width])
        page.goto(f"{site.url}/admin/groups/{partners}")
        page.click("#cb-group-delete-button")
        problem = page.locator("#cb-admin-problem")
        problem.wait_for()
        reason, count = NAMED[language]
        assert reason in problem.inner_text() and count in problem.inner_text()
        assert _shares(site, partners) == 3
        page.goto(f"{site.url}/admin/groups")
        assert "Partners" in page.inner_text("main")  # the group is still there
        page.goto(f"{site.url}/admin/groups/{partners}")
        page.click("#cb-group-delete-button")
        problem.wait_for()
        problem.scroll_into_view_if_needed()
        page.screenshot(path=str(screenshot(page, f"group-shares-{width}-{language}")))
        assert page.js_errors == []
    finally:
        users.update_user(site.db, SYSTEM, "admin", language="en")
