"""Issue 13, point 10: the Juniors scenario done entirely in the browser by an admin -- a
group Juniors with junior in it, read on Organisations (the clients), change on Orders
limited to Total < 1000 by a rule view built with the filter builder (record scope "only
matching rule views"), the Notes field hidden, order lines following their order -- then
the junior sees exactly the allowed orders and their lines in the list, the card, search,
the board and the export, and nothing else. The admin works entirely with the
keyboard (typing, arrow keys in selects, Space ticks, Enter submits); the same scenario runs
in German in test_browser_admin_german.py.
Screenshots: admin-rights, admin-rule-view."""
from __future__ import annotations


import juniors_scenario
import pytest
import sqlalchemy as sa

from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.query.model import ListQuery
from cardbase.schema_engine.store.records import RecordStore


@pytest.fixture(scope="module")
def shop(site):
    """The demo orders get a Notes field; what the junior should see is computed here."""
    return juniors_scenario.prepare_shop(site)


def test_juniors_scenario_through_the_browser(page, new_page, site, login, screenshot, shop):
    """The whole scenario with the keyboard, in English (tests/browser/juniors_scenario.py;
    the German run is test_browser_admin_german.py)."""
    juniors_scenario.run(page, new_page, site, login, screenshot, shop, "en")


def test_the_admin_screens_in_german(page, site, login, shop):
    login(page, "admin")
    page.click("#cb-user-menu")
    with page.expect_navigation(wait_until="load"):
        page.select_option("#cb-language", "de")
    page.goto(f"{site.url}/admin/users")
    assert page.inner_text("h1") == "Verwaltung"
    assert page.locator(".cb-admin-nav .nav-link").all_inner_texts()[:5] == [
        "Benutzer", "Gruppen", "Rechte", "Regelansichten", "Warum sieht jemand das?"]
    page.goto(f"{site.url}/admin/rights")
    with page.expect_navigation(wait_until="load"):
        page.click("#cb-rights-groups a >> nth=0")
    assert "Was sich addiert:" in page.inner_text("#cb-rights-help")
    assert "Nur passende Regelansichten" in page.inner_html("#cb-rights-matrix")
    page.goto(f"{site.url}/admin/nirgendwo")
    assert page.inner_text("h1") == "Nicht gefunden"
    page.click("#cb-user-menu")
    with page.expect_navigation(wait_until="load"):
        page.select_option("#cb-language", "en")


def test_the_rollup_condition_is_built_not_typed(page, site, login):
    """Point 5: the rollup filter of the field designer uses the condition builder of the
    chosen child object; the JSON box is the builder's, not something to type into."""
    login(page, "admin")
    page.goto(f"{site.url}/designer/objects/organisation/new-field")
    page.select_option("#f-type", "rollup")
    page.select_option("#opt-rollup-child", "deal")
    deal_box = page.locator("[data-rollup-filter-for=deal]")
    assert deal_box.is_visible()
    assert page.locator("[data-rollup-filter-for=order]").is_hidden()
    assert page.locator("[data-rollup-filter-for=order] textarea").is_disabled()
    deal_box.locator(".cb-condition-add").click()
    selects = deal_box.locator("select")
    assert selects.count() >= 2  # field and operator of the first condition
    page.select_option("#opt-rollup-child", "order")
    assert deal_box.is_hidden() and page.locator("[data-rollup-filter-for=order]").is_visible()
    assert page.js_errors == []


def test_the_admin_screens_fit_a_phone(new_page, site, login, screenshot, shop):
    phone = new_page(viewport={"width": 390, "height": 844}, locale="en-GB")
    login(phone, "admin", ready=".navbar-toggler")
    for path in ("/admin/users", "/admin/groups", "/admin/rights", "/admin/explain", "/account"):
        phone.goto(f"{site.url}{path}")
        assert phone.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1"), path
    phone.goto(f"{site.url}/admin/rights")
    with phone.expect_navigation(wait_until="load"):
        phone.click("#cb-rights-groups a >> nth=0")
    assert phone.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1")
    screenshot(phone, "admin-rights-phone")


def test_the_share_dialog_with_the_keyboard(page, site, login):
    """Point 7: sam opens the Share dialog of an organisation with the keyboard, shares it
    with junior at read, sees the share listed, and revokes it."""
    from cardbase.schema_engine.rights.models import Share

    org = RecordStore(site.db).list(SYSTEM, "organisation", ListQuery(limit=1)).data[0]["id"]
    login(page, "sam")
    page.goto(f"{site.url}/o/organisation/{org}")
    page.focus("#cb-share-open")
    page.keyboard.press("Enter")
    page.locator("#cb-share-dialog").wait_for(state="visible")
    page.select_option("#cb-share-grantee", f"user:{site.users['junior']}")
    page.select_option("#cb-share-level", "read")
    with page.expect_navigation(wait_until="load"):
        page.focus("#cb-share-submit")
        page.keyboard.press("Enter")
    assert "Shared." in page.inner_text(".flash")
    with site.db.read() as conn:
        assert conn.execute(sa.select(Share.level).where(Share.record_id == org,
                                                         Share.user_id == site.users["junior"])).scalar() == "read"
    page.click("#cb-share-open")
    page.locator("#cb-share-dialog").wait_for(state="visible")
    assert page.locator("[data-share=junior]").count() == 1
    with page.expect_navigation(wait_until="load"):
        page.click("button[aria-label='Stop sharing with junior']")
    assert "The share was ended." in page.inner_text(".flash")
    assert page.js_errors == []
