"""Issue 13, point 5: nested and/or groups in the filter builder. An admin builds the rule
view "(stage = Won or stage = Lost) and amount < 1000" with the builder -- the group added,
switched to "any of" and filled with the keyboard -- sees the live count of exactly those
deals, saves it, and the saved nested condition opens in the builder again (no JSON box).
Screenshot: filter-groups."""
from __future__ import annotations

import json

from cardbase.schema_engine import rights
from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.query.model import ListQuery
from cardbase.schema_engine.store.records import RecordStore

WON_OR_LOST = {"or": [{"field": "stage", "op": "eq", "value": "won"}, {"field": "stage", "op": "eq", "value": "lost"}]}
SMALL = {"field": "amount", "op": "lt", "value": "1000"}


def press(page, locator, key: str) -> None:
    locator.focus()
    page.keyboard.press(key)


def test_a_rule_view_with_an_or_group_inside_an_and(page, site, login, screenshot):
    store = RecordStore(site.db)
    for deal in store.list(SYSTEM, "deal", ListQuery(filter=WON_OR_LOST, limit=3)).data:  # demo deals are big
        version = store.get(SYSTEM, "deal", deal["id"])["version"]
        store.update(SYSTEM, "deal", deal["id"], {"amount": {"amount": "600", "currency": "EUR"}}, version=version)
    open_small = store.list(SYSTEM, "deal", ListQuery(filter={"field": "stage", "op": "eq", "value": "lead"}, limit=1))
    lead = open_small.data[0]
    store.update(SYSTEM, "deal", lead["id"], {"amount": {"amount": "50", "currency": "EUR"}},
                 version=store.get(SYSTEM, "deal", lead["id"])["version"])  # small, but not closed
    expected = RecordStore(site.db).list(SYSTEM, "deal", ListQuery(filter={"and": [WON_OR_LOST, SMALL]}, limit=500))
    closed = RecordStore(site.db).list(SYSTEM, "deal", ListQuery(filter=WON_OR_LOST, limit=500))
    assert 0 < len(expected.data) < len(closed.data)  # the demo has small and big closed deals
    login(page, "admin")
    page.goto(f"{site.url}/admin/rule-views/new/deal")
    page.fill("#f-name", "Small closed deals")
    page.select_option("#f-group", label="Junior")
    top = page.locator("#cb-filter-rows > .cb-filter-row").first       # the starter row: amount < 1000
    top.locator(".cb-f-field").select_option("amount")
    top.locator(".cb-f-op").select_option("lt")
    top.locator(".cb-f-value input").first.fill("1000")
    assert page.input_value("#cb-filter-match") == "and"

    press(page, page.locator("#cb-filter-add-group"), "Enter")        # a group, its match select focused
    group = page.locator("#cb-filter-rows > .cb-filter-group")
    assert group.count() == 1
    match = group.locator(".cb-g-match")
    assert page.evaluate("document.activeElement.classList.contains('cb-g-match')")
    page.keyboard.press("ArrowDown")                                   # all of -> any of
    assert match.input_value() == "or"
    first = group.locator(".cb-g-rows > .cb-filter-row").first
    first.locator(".cb-f-field").select_option("stage")
    first.locator(".cb-f-op").select_option("eq")
    first.locator(".cb-f-value select").select_option("won")
    press(page, group.locator(".cb-g-add"), "Enter")                   # a second condition in the group
    second = group.locator(".cb-g-rows > .cb-filter-row").nth(1)
    assert page.evaluate("document.activeElement.classList.contains('cb-f-field')")
    second.locator(".cb-f-field").select_option("stage")
    second.locator(".cb-f-op").select_option("eq")
    second.locator(".cb-f-value select").select_option("lost")
    # a group added and removed again leaves nothing behind
    press(page, group.locator(".cb-g-add-group"), "Enter")
    assert group.locator(".cb-filter-group").count() == 1
    press(page, group.locator(".cb-filter-group .cb-g-remove"), "Enter")
    assert group.locator(".cb-filter-group").count() == 0

    page.locator("#cb-live-count", has_text=f"{len(expected.data)} records match").wait_for()
    assert page.locator("#cb-filter-advanced").is_hidden()
    screenshot(page, "filter-groups")
    with page.expect_navigation(wait_until="load"):
        page.click("#cb-rule-view-save")
    assert "Rule view Small closed deals was saved." in page.inner_text(".flash")
    [view] = [v for v in rights.rule_views(site.db, "deal") if v["name"] == "Small closed deals"]
    stored = view["filter"]
    assert set(stored) == {"and"} and len(stored["and"]) == 2
    assert stored["and"][0]["field"] == "amount" and stored["and"][0]["op"] == "lt"
    assert float(stored["and"][0]["value"]) == 1000
    assert stored["and"][1] == WON_OR_LOST

    # opened again: the group is back in the builder, "any of" with its two conditions
    page.goto(f"{site.url}/admin/rule-views/{view['id']}")
    group = page.locator("#cb-filter-rows > .cb-filter-group")
    group.wait_for()
    assert group.locator(".cb-g-match").input_value() == "or"
    values = [group.locator(".cb-g-rows > .cb-filter-row").nth(i).locator(".cb-f-value select").input_value()
              for i in range(2)]
    assert values == ["won", "lost"]
    assert page.locator("#cb-filter-advanced").is_hidden()
    page.locator("#cb-live-count", has_text=f"{len(expected.data)} records match").wait_for()
    page.set_viewport_size({"width": 390, "height": 844})  # a phone: the group wraps, nothing sticks out
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1")
    assert page.js_errors == []


def test_the_rollup_condition_takes_nested_groups(page, site, login):
    """The rollup's condition builder of the field designer (static/conditions.js) has the
    same groups: built with the keyboard, saved, and shown again in the builder."""
    login(page, "admin")
    page.goto(f"{site.url}/designer/objects/organisation/new-field")
    page.fill("#f-label", "Small closed volume")
    page.select_option("#f-type", "rollup")
    page.select_option("#opt-rollup-child", "deal")
    page.select_option("#opt-rollup-aggregate", "count")
    box = page.locator("[data-rollup-filter-for=deal]")
    press(page, box.locator(".cb-condition-add").first, "Enter")       # amount < 1000
    row = box.locator(".cb-condition-row").first
    row.locator(".cb-condition-field").select_option("amount")
    row.locator(".cb-condition-op").select_option("lt")
    row.locator(".cb-condition-value").fill("1000")
    press(page, box.locator(".cb-condition-add-group").last, "Enter")  # the group, its select focused
    assert page.evaluate("document.activeElement.classList.contains('cb-condition-join')")
    page.keyboard.press("ArrowDown")                                   # all -> any
    group = box.locator(".cb-condition-group")
    inner = group.locator(".cb-condition-row").first
    inner.locator(".cb-condition-field").select_option("stage")
    inner.locator(".cb-condition-op").select_option("eq")
    group.locator(".cb-condition-row").first.locator(".cb-condition-value").select_option("won")
    press(page, group.locator(".cb-condition-add"), "Enter")
    second = group.locator(".cb-condition-row").nth(1)
    second.locator(".cb-condition-field").select_option("stage")
    second.locator(".cb-condition-op").select_option("eq")
    group.locator(".cb-condition-row").nth(1).locator(".cb-condition-value").select_option("lost")
    written = json.loads(box.locator("textarea").input_value())
    assert written == {"and": [SMALL, WON_OR_LOST]}
    with page.expect_navigation(wait_until="load"):
        page.click("#cb-save-field")
    field = site.db.schema().object("organisation").field("small_closed_volume")
    assert field.options["filter"]
    page.goto(f"{site.url}/designer/objects/organisation/fields/small_closed_volume")
    box = page.locator("[data-rollup-filter-for=deal]")
    assert box.locator(".cb-condition-group").count() == 1 and box.locator(".cb-condition-complex").count() == 0
    assert box.locator(".cb-condition-group .cb-condition-join").input_value() == "or"
    assert json.loads(box.locator("textarea").input_value()) == {"and": [SMALL, WON_OR_LOST]}
    # "none of" them: the group becomes a not, saved and shown again in the builder
    press(page, box.locator(".cb-condition-group .cb-condition-join"), "ArrowDown")
    assert json.loads(box.locator("textarea").input_value()) == {"and": [SMALL, {"not": WON_OR_LOST}]}
    with page.expect_navigation(wait_until="load"):
        page.click("#cb-save-field")
    page.goto(f"{site.url}/designer/objects/organisation/fields/small_closed_volume")
    box = page.locator("[data-rollup-filter-for=deal]")
    assert box.locator(".cb-condition-group .cb-condition-join").input_value() == "not"
    assert box.locator(".cb-condition-complex").count() == 0
    assert json.loads(box.locator("textarea").input_value()) == {"and": [SMALL, {"not": WON_OR_LOST}]}
    assert page.js_errors == []


def test_a_list_filter_with_none_of_loads_into_the_builder_and_applies_again(page, site, login):
    """A negated condition ("none of") is a group of the builder too: loaded from the
    stored filter, applied again unchanged, never shown as JSON."""
    from urllib.parse import parse_qs, quote, urlparse

    not_closed = {"not": WON_OR_LOST}
    expected = RecordStore(site.db).list(SYSTEM, "deal", ListQuery(filter=not_closed, limit=1)).count
    login(page, "admin")
    page.goto(f"{site.url}/o/deal?filter={quote(json.dumps(not_closed))}")
    group = page.locator("#cb-filter-rows > .cb-filter-group")
    group.wait_for(state="attached")
    assert group.locator(".cb-g-match").input_value() == "not"
    assert group.locator(".cb-g-rows > .cb-filter-row").count() == 2
    assert page.locator("#cb-filter-advanced").is_hidden()
    assert int(page.get_attribute("#cb-list-table", "data-total")) == expected
    page.click("#cb-filter-toggle")
    group.locator(".cb-g-match").focus()
    page.keyboard.press("ArrowUp")                                     # none of -> any of, then back
    assert group.locator(".cb-g-match").input_value() == "or"
    page.keyboard.press("ArrowDown")
    with page.expect_navigation(wait_until="load"):
        press(page, page.locator("#cb-filter-apply"), "Enter")
    assert "cb-filter-apply" not in page.url and page.locator("#cb-filter-rows > .cb-filter-group").count() == 1
    assert json.loads(parse_qs(urlparse(page.url).query)["filter"][0]) == not_closed
    assert page.js_errors == []
