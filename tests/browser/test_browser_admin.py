"""Issue 13, point 10: the Juniors scenario done entirely in the browser by an admin -- a
group Juniors with junior in it, read on Organisations (the clients), change on Orders
limited to Total < 1000 by a rule view built with the filter builder (record scope "only
matching rule views"), the Notes field hidden, order lines following their order -- then
the junior sees exactly the allowed orders and their lines in the list, the card, search,
the board and the export, and nothing else. The admin's forms are worked with the
keyboard (Space ticks, Enter submits), and the screens are checked in German too.
Screenshots: admin-rights, admin-rule-view."""
from __future__ import annotations

import csv
import io
import re

import pytest
import sqlalchemy as sa

from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.query.model import ListQuery
from cardbase.schema_engine.schema_service import SchemaService
from cardbase.schema_engine.store.records import RecordStore

SMALL = {"field": "total", "op": "lt", "value": 1000}


@pytest.fixture(scope="module")
def shop(site):
    """The demo orders get a Notes field; what the junior should see is computed here."""
    SchemaService(site.db).add_field(SYSTEM, "order", {"name": "notes", "label": "Notes", "type": "text"})
    store = RecordStore(site.db)
    orders = store.list(SYSTEM, "order", ListQuery(limit=500, fields=["code"])).data
    small = {r["id"] for r in store.list(SYSTEM, "order", ListQuery(filter=SMALL, limit=500)).data}
    assert small and len(small) < len(orders)  # the demo has both kinds
    for r in orders[:5]:
        version = store.get(SYSTEM, "order", r["id"])["version"]
        store.update(SYSTEM, "order", r["id"], {"notes": "TOP-SECRET-NOTE"}, version=version)
    lines = store.list(SYSTEM, "order_line", ListQuery(limit=500, fields=["order"])).data
    allowed_lines = {r["id"] for r in lines if r["order"] is not None and r["order"].id in small}
    schema = site.db.schema()
    return {"orders": {r["id"]: r["code"] for r in orders}, "small": small, "lines": {r["id"] for r in lines},
            "allowed_lines": allowed_lines, "ids": {o.api_name: o.id for o in schema.objects},
            "notes": schema.object("order").field("notes").id}


def tick(page, selector: str) -> None:
    """Tick a checkbox with the keyboard."""
    page.focus(selector)
    page.keyboard.press("Space")
    assert page.is_checked(selector), selector


def submit_with_enter(page, selector: str) -> None:
    with page.expect_navigation(wait_until="load"):
        page.focus(selector)
        page.keyboard.press("Enter")


def test_juniors_scenario_through_the_browser(page, new_page, site, login, screenshot, shop):
    ids = shop["ids"]
    login(page, "admin")
    with page.expect_navigation(wait_until="load"):
        page.click("#cb-nav-admin")
    assert page.locator("#cb-users [data-user=junior]").count() == 1

    # the group, its member, and junior out of the old read-everything group
    page.goto(f"{site.url}/admin/groups")
    page.fill("#f-name", "Juniors")
    submit_with_enter(page, "#f-name")
    assert "Group Juniors was created." in page.inner_text(".flash")
    group_url = page.url
    gid = int(re.search(r"/admin/groups/(\d+)", group_url).group(1))
    page.select_option("#f-user", str(site.users["junior"]))
    submit_with_enter(page, "#cb-member-add")
    assert page.locator("[data-member=junior]").count() == 1
    page.goto(f"{site.url}/admin/groups")
    with page.expect_navigation(wait_until="load"):
        page.click("#cb-groups [data-group=Junior] a >> nth=0")
    submit_with_enter(page, "button[aria-label='Remove junior from the group']")
    assert page.locator("[data-member=junior]").count() == 0

    # the rights matrix: read on clients, change on orders (only matching rule views) and lines
    page.goto(group_url)
    with page.expect_navigation(wait_until="load"):
        page.click("#cb-group-rights")
    assert "What restricts:" in page.inner_text("#cb-rights-help")
    for obj, rights in (("organisation", ("read",)), ("order", ("read", "edit", "export")),
                        ("order_line", ("read", "edit", "export"))):
        for right in rights:
            tick(page, f"#r-{ids[obj]}-{right}")
    page.select_option(f"#s-{ids['order']}", "rule_views")
    screenshot(page, "admin-rights")
    submit_with_enter(page, "#cb-rights-save")
    assert "Saved: 3 objects changed." in page.inner_text(".flash")

    # the Notes field hidden from Juniors, and order lines following their order
    page.goto(f"{site.url}/admin/objects/order/fields")
    page.select_option(f"#l-{gid}-{shop['notes']}", "hidden")
    submit_with_enter(page, "#cb-field-rights-save")
    assert "Saved: 1 field rights changed." in page.inner_text(".flash")
    page.goto(f"{site.url}/admin/objects/order_line/fields")
    page.select_option("#f-field", "order")
    submit_with_enter(page, "#cb-parent-save")
    assert page.input_value("#f-field") == "order"

    # the rule view, built with the lists' filter builder, with its live count
    page.goto(f"{site.url}/admin/rule-views")
    page.select_option("#f-new-object", label="Orders")
    with page.expect_navigation(wait_until="load"):
        page.click("#cb-rule-view-create")
    page.fill("#f-name", "Small orders")
    page.select_option("#f-group", str(gid))
    page.select_option("#f-level", "change")
    row = page.locator(".cb-filter-row").first
    row.locator(".cb-f-field").select_option("total")
    row.locator(".cb-f-op").select_option("lt")
    row.locator(".cb-f-value input").first.fill("1000")
    page.locator("#cb-live-count", has_text="records match").wait_for()
    assert page.inner_text("#cb-live-count") == f"{len(shop['small'])} records match"
    screenshot(page, "admin-rule-view")
    with page.expect_navigation(wait_until="load"):
        page.click("#cb-rule-view-save")
    assert "Rule view Small orders was saved." in page.inner_text(".flash")
    assert page.js_errors == []

    # the junior sees exactly the small orders and their lines, everywhere
    junior = new_page(locale="en-GB")
    login(junior, "junior")
    junior.goto(f"{site.url}/o/order")
    assert int(junior.get_attribute("#cb-list-table", "data-total")) == len(shop["small"])
    shown = {int(i) for i in junior.locator("#cb-list-table tbody tr[data-id]").evaluate_all(
        "rows => rows.map(r => r.dataset.id)")}
    assert shown and shown <= shop["small"]
    assert "Notes" not in junior.inner_text("#cb-list-table thead")
    allowed = sorted(shop["small"])[0]
    hidden = sorted(set(shop["orders"]) - shop["small"])[0]
    junior.goto(f"{site.url}/o/order/{allowed}")
    assert "Notes" not in junior.inner_text("main") and "TOP-SECRET-NOTE" not in junior.content()
    missing = junior.goto(f"{site.url}/o/order/{hidden}")
    assert missing.status == 404 and junior.locator(".cb-topbar").count() == 1
    junior.goto(f"{site.url}/o/order_line")
    assert int(junior.get_attribute("#cb-list-table", "data-total")) == len(shop["allowed_lines"])
    lines_shown = {int(i) for i in junior.locator("#cb-list-table tbody tr[data-id]").evaluate_all(
        "rows => rows.map(r => r.dataset.id)")}
    assert lines_shown <= shop["allowed_lines"]
    hidden_line = sorted(shop["lines"] - shop["allowed_lines"])[0]
    assert junior.goto(f"{site.url}/o/order_line/{hidden_line}").status == 404
    # global search for the hidden order's code finds nothing of it
    junior.fill("#cb-global-search", shop["orders"][hidden])
    with junior.expect_navigation(wait_until="load"):
        junior.keyboard.press("Enter")
    assert f"/o/order/{hidden}\"" not in junior.content()
    junior.goto(f"{site.url}/search?q={shop['orders'][allowed]}")
    assert f"/o/order/{allowed}" in junior.content()
    # the board of orders
    junior.goto(f"{site.url}/o/order/board")
    board = junior.content()
    assert f"/o/order/{hidden}\"" not in board and f"/o/order/{allowed}" in board
    # the export
    exported = junior.request.get(f"{site.url}/o/order/export.csv")
    rows = list(csv.DictReader(io.StringIO(exported.text().lstrip("\ufeff"))))
    assert len(rows) == len(shop["small"]) and all("Notes" not in r for r in rows)
    assert {r["Code"] for r in rows} == {shop["orders"][i] for i in shop["small"]}


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
