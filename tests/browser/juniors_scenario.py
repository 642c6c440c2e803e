"""Issue 13, point 10: the Juniors scenario, done entirely in the browser by an admin and
entirely with the keyboard (text typed, selects moved with the arrow keys, checkboxes
ticked with Space, buttons and links pressed with Enter), then checked as the junior.
Run in English (test_browser_admin.py) and in German (test_browser_admin_german.py), each
on its own copy of the demo site; the words the screens show come from ``TEXTS``."""
from __future__ import annotations

import csv
import io
import re
from typing import Any

from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.query.model import ListQuery
from cardbase.schema_engine.schema_service import SchemaService
from cardbase.schema_engine.store.records import RecordStore

SMALL = {"field": "total", "op": "lt", "value": 1000}

TEXTS = {
    "en": {"group_created": "Group Juniors was created.", "rights_saved": "Saved: 3 objects changed.",
           "restricts": "What restricts:", "fields_saved": "Saved: 1 field rights changed.",
           "remove_junior": "Remove junior from the group", "match": "{n} records match",
           "rule_saved": "Rule view Small orders was saved.", "code": "Code"},
    "de": {"group_created": "Gruppe Juniors wurde angelegt.", "rights_saved": "Gespeichert: 3 Objekte geändert.",
           "restricts": "Was einschränkt:", "fields_saved": "Gespeichert: 1 Feldrechte geändert.",
           "remove_junior": "junior aus der Gruppe entfernen", "match": "{n} Datensätze treffen zu",
           "rule_saved": "Regelansicht Small orders wurde gespeichert.", "code": "Code"},
}


def prepare_shop(site: Any) -> dict[str, Any]:
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


# ---- the keyboard ------------------------------------------------------------------------------------
def _locator(page, target):
    return page.locator(target) if isinstance(target, str) else target


def choose(page, target, *, value: str | None = None, label: str | None = None, value_ends: str | None = None) -> None:
    """Pick an option of a select with the keyboard: focus it, then arrow keys until the
    wanted option (by value, label or the end of its value) is the selected one."""
    select = _locator(page, target)
    options = select.evaluate("s => [...s.options].map(o => [o.value, o.label.trim()])")
    wanted = [i for i, (v, text) in enumerate(options)
              if (value is not None and v == value) or (label is not None and text == label)
              or (value_ends is not None and v.endswith(value_ends))]
    assert wanted, (value, label, value_ends, options)
    select.focus()
    for _ in range(len(options) + 1):
        current = select.evaluate("s => s.selectedIndex")
        if current == wanted[0]:
            break
        page.keyboard.press("ArrowDown" if current < wanted[0] else "ArrowUp")
    assert select.evaluate("s => s.selectedIndex") == wanted[0], (value, label, options)


def type_into(page, target, text: str) -> None:
    """Type into an empty field key by key."""
    field = _locator(page, target)
    field.focus()
    page.keyboard.type(text)
    assert field.input_value() == text


def tick(page, selector: str) -> None:
    """Tick a checkbox with the keyboard."""
    page.focus(selector)
    page.keyboard.press("Space")
    assert page.is_checked(selector), selector


def press_enter(page, target, navigates: bool = True) -> None:
    """Press Enter on a button, link or field (most of them submit or open a page)."""
    element = _locator(page, target)
    if not navigates:
        element.focus()
        page.keyboard.press("Enter")
        return
    with page.expect_navigation(wait_until="load"):
        element.focus()
        page.keyboard.press("Enter")


# ---- the scenario ------------------------------------------------------------------------------------
def run(page, new_page, site, login, screenshot, shop: dict[str, Any], language: str) -> None:
    """The admin (in ``language``) sets up Juniors with the keyboard; the junior (same
    language) sees exactly the small orders and their lines, everywhere."""
    t, ids, suffix = TEXTS[language], shop["ids"], "" if language == "en" else f"-{language}"
    login(page, "admin")
    press_enter(page, "#cb-nav-admin")
    assert page.locator("#cb-users [data-user=junior]").count() == 1

    # the group, its member, and junior out of the old read-everything group
    page.goto(f"{site.url}/admin/groups")
    type_into(page, "#f-name", "Juniors")
    press_enter(page, "#f-name")
    assert t["group_created"] in page.inner_text(".flash")
    group_url = page.url
    gid = int(re.search(r"/admin/groups/(\d+)", group_url).group(1))
    choose(page, "#f-user", value=str(site.users["junior"]))
    press_enter(page, "#cb-member-add")
    assert page.locator("[data-member=junior]").count() == 1
    page.goto(f"{site.url}/admin/groups")
    press_enter(page, page.locator("#cb-groups [data-group=Junior] a").first)
    press_enter(page, f"button[aria-label='{t['remove_junior']}']")
    assert page.locator("[data-member=junior]").count() == 0

    # the rights matrix: read on clients, change on orders (only matching rule views) and lines
    page.goto(group_url)
    press_enter(page, "#cb-group-rights")
    assert t["restricts"] in page.inner_text("#cb-rights-help")
    for obj, rights in (("organisation", ("read",)), ("order", ("read", "edit", "export")),
                        ("order_line", ("read", "edit", "export"))):
        for right in rights:
            tick(page, f"#r-{ids[obj]}-{right}")
    choose(page, f"#s-{ids['order']}", value="rule_views")
    screenshot(page, f"admin-rights{suffix}")
    press_enter(page, "#cb-rights-save")
    assert t["rights_saved"] in page.inner_text(".flash")

    # the Notes field hidden from Juniors, and order lines following their order
    page.goto(f"{site.url}/admin/objects/order/fields")
    choose(page, f"#l-{gid}-{shop['notes']}", value="hidden")
    press_enter(page, "#cb-field-rights-save")
    assert t["fields_saved"] in page.inner_text(".flash")
    page.goto(f"{site.url}/admin/objects/order_line/fields")
    choose(page, "#f-field", value="order")
    press_enter(page, "#cb-parent-save")
    assert page.input_value("#f-field") == "order"

    # the rule view, built with the lists' filter builder, with its live count
    page.goto(f"{site.url}/admin/rule-views")
    choose(page, "#f-new-object", value_ends="/new/order")
    press_enter(page, "#cb-rule-view-create")
    type_into(page, "#f-name", "Small orders")
    choose(page, "#f-group", value=str(gid))
    choose(page, "#f-level", value="change")
    row = page.locator(".cb-filter-row").first
    choose(page, row.locator(".cb-f-field"), value="total")
    choose(page, row.locator(".cb-f-op"), value="lt")
    type_into(page, row.locator(".cb-f-value input").first, "1000")
    expected = t["match"].format(n=len(shop["small"]))
    page.locator("#cb-live-count", has_text=expected).wait_for()
    assert page.inner_text("#cb-live-count") == expected
    screenshot(page, f"admin-rule-view{suffix}")
    press_enter(page, "#cb-rule-view-save")
    assert t["rule_saved"] in page.inner_text(".flash")
    assert page.js_errors == []

    # the junior sees exactly the small orders and their lines, everywhere
    junior = new_page(locale="en-GB" if language == "en" else "de-DE")
    login(junior, "junior")
    assert junior.evaluate("document.documentElement.lang").startswith(language)
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
    type_into(junior, "#cb-global-search", shop["orders"][hidden])
    press_enter(junior, "#cb-global-search")
    assert f"/o/order/{hidden}\"" not in junior.content()
    junior.goto(f"{site.url}/search?q={shop['orders'][allowed]}")
    assert f"/o/order/{allowed}" in junior.content()
    # the board of orders
    junior.goto(f"{site.url}/o/order/board")
    board = junior.content()
    assert f"/o/order/{hidden}\"" not in board and f"/o/order/{allowed}" in board
    # the export
    exported = junior.request.get(f"{site.url}/o/order/export.csv")
    text = exported.text().lstrip("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text), dialect=csv.Sniffer().sniff(text.splitlines()[0], ",;")))
    assert len(rows) == len(shop["small"]) and all("Notes" not in r for r in rows)
    assert {r[t["code"]] for r in rows} == {shop["orders"][i] for i in shop["small"]}
