"""Stored script payloads show as text on every screen, and no script of theirs runs.

An object with one field of EVERY field type, whose labels (object, fields, choices), text
values, linked records' display values, lookup and formula results, a user's display name
and history entries are the payloads below. Each screen is opened in Chromium; the test
checks that ``window.__xss`` stays undefined, that the page has no script error and no
Content-Security-Policy script violation (an injected inline script or handler would be
blocked by the CSP and reported: the CSP is the second wall, escaping the first), that no
element or handler was injected, and that each payload shows, exactly, as the text of the
element that holds it: per field its list cell and header, its card widget and label, the
board's lanes and cards, the calendar's entries, search hits, the trash, the card after a
version conflict and after refused input (422), and a saved view named with a payload.
"""
from __future__ import annotations

import re
from typing import Callable

import pytest

from cardbase.platform import users
from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.rights import admin as rights_admin
from cardbase.schema_engine.schema_service import SchemaService
from cardbase.schema_engine.store.records import RecordStore

P1 = "<script>window.__xss=1</script>"
P2 = '"><img src=x onerror="window.__xss=1">'
PAYLOADS = (P1, P2)

# one field of every type; labels carry a payload (labels are unique per object, hence the suffix)
FIELDS = [
    ("name", "string", {}), ("body", "text", {}), ("count", "integer", {}),
    ("ratio", "decimal", {"precision": 10, "scale": 2}), ("price", "money", {"currency": "EUR"}),
    ("day", "date", {}), ("moment", "datetime", {}), ("flag", "boolean", {}),
    ("pick", "choice", {"choices": [{"value": "a", "label": P1, "color": "red"}, {"value": "b", "label": P2}]}),
    ("picks", "multi_choice", {"choices": [{"value": "a", "label": P1}, {"value": "b", "label": P2}]}),
    ("mail", "email", {}), ("tel", "phone", {}), ("site", "url", {}),
    ("target", "link", {"target": "xss_target", "on_delete": "set_null"}),
    ("person", "user", {}),
    ("calc", "formula", {"formula": 'CONCAT([name], "!")'}),
    ("looked", "lookup", {"link": "target", "field": "name"}),
    ("number", "autonumber", {"pattern": "N-{000}"}),
]
TYPES = {"string", "text", "integer", "decimal", "money", "date", "datetime", "boolean", "choice", "multi_choice",
         "email", "phone", "url", "link", "user", "formula", "lookup", "rollup", "autonumber"}


def label(i: int, name: str) -> str:
    return f"{PAYLOADS[i % 2]} {name}"


LABELS = {**{n: label(i, n) for i, (n, _t, _o) in enumerate(FIELDS)}, "rolled": P2 + " rolled"}
ALL_FIELDS = list(LABELS)
OBJECT_LABEL, OBJECT_PLURAL = P2 + " record", P1 + " records"
# The first record as its fields show it (after the fixture's change: body P1+P2, pick "b"):
# the text of its list cell or read-only value, and the choices shown as badges.
TEXTS = {"name": P1, "body": P1 + P2, "target": P1, "person": P2, "calc": P1 + "!", "looked": P1, "rolled": "3"}
BADGES = {"pick": [P2], "picks": [P1, P2]}


@pytest.fixture(scope="module")
def xss(site) -> dict:
    """The payload objects and records in the module's site (created once)."""
    svc, store = SchemaService(site.db), RecordStore(site.db)
    svc.create_object(SYSTEM, {"name": "xss_target", "label": P1, "label_plural": P2, "fields": [
        {"name": "name", "label": P2, "type": "string"}]})
    svc.create_object(SYSTEM, {
        "name": "xss", "label": OBJECT_LABEL, "label_plural": OBJECT_PLURAL, "code_pattern": "X-{0000}",
        "fields": [{"name": n, "label": label(i, n), "type": t, **({"options": o} if o else {})}
                   for i, (n, t, o) in enumerate(FIELDS)]})
    svc.create_object(SYSTEM, {"name": "xss_line", "label": P1 + " line", "label_plural": P2 + " lines", "fields": [
        {"name": "name", "label": P1 + " name", "type": "string"},
        {"name": "parent", "label": P2 + " parent", "type": "link", "options": {"target": "xss", "on_delete": "cascade"}},
        {"name": "amount", "label": P1 + " amount", "type": "integer"}]})
    svc.add_field(SYSTEM, "xss", {"name": "rolled", "label": LABELS["rolled"], "type": "rollup", "options": {
        "child": "xss_line", "link": "parent", "field": "amount", "aggregate": "sum"}})
    types = {f.type for f in site.db.schema().object("xss").user_fields}
    assert types == TYPES, TYPES ^ types
    mallory = users.create_user(site.db, "mallory", "mike-pass-123x", display_name=P2)
    targets = [store.create(SYSTEM, "xss_target", {"name": p}) for p in PAYLOADS]
    records, lines = [], []
    for i, payload in enumerate(PAYLOADS):
        records.append(store.create(SYSTEM, "xss", {
            "name": payload, "body": PAYLOADS[1 - i], "count": i + 1, "ratio": "1.5", "price": "2",
            "day": "2026-11-10", "moment": "2026-11-10T10:00:00Z", "flag": bool(i), "pick": "ab"[i],
            "picks": ["a", "b"], "mail": "a@example.com", "tel": "+49 30 1234567",
            "site": "https://example.com/?q=%22%3E%3Cimg%20src=x%20onerror=window.__xss=1%3E",
            "target": targets[i]["id"], "person": mallory.id}))
        lines.append(store.create(SYSTEM, "xss_line", {"name": payload, "parent": records[-1]["id"], "amount": 3}))
    # history with payloads on both sides
    first = store.get(SYSTEM, "xss", records[0]["id"])
    store.update(SYSTEM, "xss", first["id"], {"body": P1 + P2, "pick": "b"}, version=first["version"])
    # a record in the trash, moved there by mallory (whose name is a payload)
    users.create_group(site.db, SYSTEM, "Mallory")
    users.add_member(site.db, SYSTEM, "mallory", "Mallory")
    rights_admin.set_object_rights(site.db, SYSTEM, "Mallory", "xss", ("read", "delete"))
    trashed = store.create(SYSTEM, "xss", {"name": P2 + " trashed"})
    store.delete(site.actor("mallory"), "xss", trashed["id"])
    return {"record": first["id"], "second": records[1]["id"], "target": targets[0]["id"],
            "lines": [line["id"] for line in lines], "trashed": trashed["id"]}


# ---- the checks every screen gets -------------------------------------------------------------
@pytest.fixture
def admin(page, login):
    """The test's page, signed in as admin, collecting CSP script violations."""
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text)
            if "Content Security Policy" in m.text and "script" in m.text else None)
    page.csp_violations = violations
    login(page, "admin")
    return page


def open_screen(page, url: str, status: int = 200) -> None:
    response = page.goto(url)
    assert response.status == status, (url, response.status)
    page.wait_for_load_state("load")


def assert_inert(page, screen: str) -> None:
    """No payload ran, was blocked, or left an element or handler behind."""
    assert page.evaluate("typeof window.__xss") == "undefined", screen
    assert page.js_errors == [], (screen, page.js_errors)
    assert page.csp_violations == [], (screen, page.csp_violations)  # nothing was injected for the CSP to block
    assert page.locator("img[src=x]").count() == 0, screen
    # data blocks (<script type="application/json">) may hold the payload, escaped; no script may
    assert page.evaluate("[...document.scripts].filter(s => s.type !== 'application/json'"
                         " && s.textContent.includes('__xss')).length") == 0, screen
    assert page.evaluate("[...document.querySelectorAll('script[type=\"application/json\"]')]"
                         ".every(s => { try { JSON.parse(s.textContent); return true; } catch (e) { return false; } })"), screen
    assert page.evaluate("[...document.querySelectorAll('*')].filter(e => [...e.attributes]"
                         ".some(a => a.name.startsWith('on'))).length") == 0, screen


def text(locator) -> str:
    """The text a locator shows (exactly one element)."""
    assert locator.count() == 1, locator
    return locator.inner_text().strip()


def texts(locator) -> list[str]:
    return [t.strip() for t in locator.all_inner_texts()]


def selected_text(select) -> str:
    return select.evaluate("s => s.options[s.selectedIndex].text")


def label_of(page, field: str) -> str:
    """A card field's label: a <label for> of a control, or the label of a read-only value."""
    control = page.locator(f'label.form-label[for="cb-f-{field}"]')
    return text(control if control.count() else page.locator(f"#cb-f-{field}-label"))


# ---- per screen: where each payload must show as text ---------------------------------------------
def row_cells(page, record_id: int) -> dict:
    """The cells of one row of the list on the page, by their column's path."""
    row = page.locator(f'#cb-list-table tbody tr[data-id="{record_id}"]')
    assert row.count() == 1, record_id
    paths = page.locator("#cb-list-table thead th").evaluate_all("ths => ths.map(th => th.dataset.path)")
    return {path: row.locator("td").nth(i) for i, path in enumerate(paths)}


def check_list(page, ids: dict) -> None:
    assert text(page.locator("h1")) == OBJECT_PLURAL
    for name in ALL_FIELDS:
        assert text(page.locator(f'#cb-list-table th[data-path="{name}"]')) == LABELS[name], name
    cell = row_cells(page, ids["record"])
    for name, shown in TEXTS.items():
        assert cell[name].inner_text().replace("↗", "").strip() == shown, name
        assert cell[name].get_attribute("data-label") == LABELS[name], name
    for name, badges in BADGES.items():
        assert texts(cell[name].locator(".cb-badge")) == badges, name
    assert text(cell["name"].locator("a.cb-open")) == P1  # the first cell opens the card
    assert text(cell["target"].locator(f'a[href="/o/xss_target/{ids["target"]}"]')) == P1


def check_card(page, ids: dict) -> None:
    assert text(page.locator("#cb-card-title")) == P1
    for name in ALL_FIELDS:
        assert label_of(page, name) == LABELS[name], name
    # the widgets hold the payloads as their values
    assert page.input_value("#cb-f-name") == P1
    assert page.input_value("#cb-f-body") == P1 + P2
    assert page.input_value("#cb-f-target") == P1  # the link picker's text
    assert selected_text(page.locator("#cb-f-person")) == P2
    pick = page.locator("#cb-f-pick")
    assert selected_text(pick) == P2 and texts(pick.locator("option"))[1:] == [P1, P2]
    boxes = page.locator('[data-field="picks"] .form-check')
    assert texts(boxes.locator("label")) == [P1, P2]
    assert boxes.locator("input:checked").count() == 2
    for name in ("calc", "looked", "rolled"):  # calculated: read-only values
        assert text(page.locator(f'[data-cb-value="{name}"]')) == TEXTS[name], name
    # the child sub-table: the line's name, under its payload heading
    part = page.locator("#cb-part-xss_line-parent")
    assert texts(part.locator("thead th"))[:2] == [P1 + " name", P1 + " amount"]
    assert text(part.locator(f'tr[data-row="{ids["lines"][0]}"] [data-cb-cell="name"]')) == P1


def history_change(page, field: str) -> tuple[str, str, str]:
    rows = page.locator("#cb-tab-history .cb-history-changes tr").filter(
        has=page.locator("th", has_text=re.compile("^" + re.escape(LABELS[field]) + "$")))
    row = rows.first
    return text(row.locator("th")), text(row.locator("td").nth(0)), text(row.locator("td").nth(2))


def check_history(page, ids: dict) -> None:
    page.locator("#cb-tab-history-tab").click()
    page.locator("#cb-tab-history .cb-history").wait_for()
    entry = page.locator("#cb-tab-history .cb-history-entry").first  # the change, newest first
    assert history_change(page, "body") == (LABELS["body"], P2, P1 + P2)
    assert history_change(page, "pick") == (LABELS["pick"], P1, P2)
    assert texts(entry.locator(".cb-badge")) == [P1, P2]


def check_new_card(page, ids: dict) -> None:
    assert text(page.locator("#cb-card-title")) == "New " + OBJECT_LABEL
    for name, _type, _options in FIELDS:
        if name not in ("calc", "looked", "number"):
            assert label_of(page, name) == LABELS[name], name
    assert texts(page.locator("#cb-f-pick option"))[1:] == [P1, P2]
    assert texts(page.locator('[data-field="picks"] .form-check label')) == [P1, P2]
    assert P2 in texts(page.locator("#cb-f-person option"))


def check_board(page, ids: dict) -> None:
    lanes = {key: page.locator(f'.cb-lane[data-column="{key}"]') for key in ("a", "b")}
    assert text(lanes["a"].locator(".cb-lane-title")) == P1 and text(lanes["b"].locator(".cb-lane-title")) == P2
    assert text(lanes["b"].locator(f'.cb-board-card[data-id="{ids["record"]}"] .cb-board-title')) == P1
    assert text(lanes["b"].locator(f'.cb-board-card[data-id="{ids["second"]}"] .cb-board-title')) == P2


def calendar_titles(page) -> dict[str, str]:
    """record id -> the entry's title on 10 November (without its time)."""
    items = page.locator('#cb-cal-grid .cb-cal-day[data-date="2026-11-10"] .cb-cal-item')
    return {el.get_attribute("data-id"): el.evaluate(
        "e => [...e.childNodes].filter(n => !(n.classList && n.classList.contains('cb-cal-time')))"
        ".map(n => n.textContent).join('').trim()") for el in items.all()}


def check_calendar(page, ids: dict) -> None:
    assert calendar_titles(page) == {str(ids["record"]): P1, str(ids["second"]): P2}
    assert text(page.locator("h1")).startswith(OBJECT_PLURAL)


def check_calendar_of_a_datetime(page, ids: dict) -> None:
    check_calendar(page, ids)
    time = page.locator(f'#cb-cal-grid .cb-cal-item[data-id="{ids["record"]}"] .cb-cal-time')
    assert re.fullmatch(r"\d\d:\d\d", text(time))


def check_search(page, ids: dict) -> None:
    group = page.locator('section[data-object="xss"]')
    assert text(group.locator("h2")) == OBJECT_PLURAL
    assert text(group.locator(f'a.cb-hit[href="/o/xss/{ids["record"]}"]')) == P1
    assert text(page.locator('section[data-object="xss_line"] h2')) == P2 + " lines"


def check_linked_record(page, ids: dict) -> None:
    assert text(page.locator("#cb-card-title")) == P1
    assert label_of(page, "name") == P2 and page.input_value("#cb-f-name") == P1
    related = page.locator("#cb-related-xss-target")
    assert text(related.locator(f'a[href="/o/xss/{ids["record"]}"]')) == P1


def check_child_list(page, ids: dict) -> None:
    assert text(page.locator("h1")) == P2 + " lines"
    assert text(page.locator('#cb-list-table th[data-path="name"]')) == P1 + " name"
    assert text(page.locator('#cb-list-table th[data-path="parent"]')) == P2 + " parent"
    for line, record, payload in zip(ids["lines"], (ids["record"], ids["second"]), PAYLOADS):
        cell = row_cells(page, line)
        assert text(cell["name"].locator("a.cb-open")) == payload
        assert text(cell["parent"].locator(f'a[href="/o/xss/{record}"]')) == payload


def check_trash(page, ids: dict) -> None:
    assert text(page.locator("h1")) == "Trash: " + OBJECT_PLURAL
    row = page.locator(f'#cb-trash tr[data-row="{ids["trashed"]}"]')
    cells = row.locator("td")
    assert cells.nth(1).inner_text().strip() == P2 + " trashed"
    assert text(row.locator('td[data-label="Deleted by"]')) == P2  # mallory's display name
    assert texts(page.locator("#cb-trash thead th"))[1] == LABELS["name"]


SCREENS: dict[str, tuple[Callable[[dict], str], Callable]] = {
    "list": (lambda ids: "/o/xss?cols=" + ",".join(ALL_FIELDS), check_list),
    "card": (lambda ids: f"/o/xss/{ids['record']}", check_card),
    "history": (lambda ids: f"/o/xss/{ids['record']}", check_history),
    "new card": (lambda ids: "/o/xss/new", check_new_card),
    "board": (lambda ids: "/o/xss/board/pick", check_board),
    "calendar": (lambda ids: "/o/xss/calendar/day?month=2026-11", check_calendar),
    "calendar of a datetime": (lambda ids: "/o/xss/calendar/moment?month=2026-11", check_calendar_of_a_datetime),
    "search": (lambda ids: "/search?q=window", check_search),
    "linked record": (lambda ids: f"/o/xss_target/{ids['target']}", check_linked_record),
    "child list": (lambda ids: "/o/xss_line", check_child_list),
    "trash": (lambda ids: "/o/xss/trash", check_trash),
}


@pytest.mark.parametrize("screen", list(SCREENS))
def test_payloads_show_as_text_and_never_run(admin, site, xss, screen):
    path, check = SCREENS[screen]
    open_screen(admin, site.url + path(xss))
    check(admin, xss)
    assert_inert(admin, screen)


# ---- screens reached by doing something ------------------------------------------------------------
def payload_record(site, name: str) -> int:
    """A fresh record for a test that changes it (the shared ones stay as the checks expect)."""
    return RecordStore(site.db).create(SYSTEM, "xss", {"name": name, "body": P2, "pick": "a"})["id"]


def test_the_version_conflict_screen_shows_payloads_as_text(admin, site, xss):
    record = payload_record(site, P1 + " mine")
    open_screen(admin, f"{site.url}/o/xss/{record}")
    # someone else saves payloads meanwhile; this user changes the name and the text
    current = RecordStore(site.db).get(SYSTEM, "xss", record)
    RecordStore(site.db).update(SYSTEM, "xss", record, {"name": P2 + " theirs", "body": P1 + " theirs"},
                                version=current["version"])
    admin.fill("#cb-f-name", P2 + " typed")
    with admin.expect_navigation():
        admin.click("#cb-save")
    assert admin.locator("#cb-conflict-summary").is_visible()
    name = admin.locator('[data-field="name"]')
    assert admin.input_value("#cb-f-name") == P2 + " typed"  # the user's input is kept ...
    assert text(name.locator(".cb-theirs")) == P2 + " theirs"  # ... next to what is saved now
    assert admin.input_value("#cb-f-body") == P1 + " theirs"  # only they changed it: taken over
    summary = texts(admin.locator("#cb-conflict-summary li"))
    assert any(item.startswith(LABELS["name"] + ": ") and P2 + " theirs" in item for item in summary), summary
    assert any(item.startswith(LABELS["body"] + ": ") and P1 + " theirs" in item for item in summary), summary
    assert_inert(admin, "conflict")


def test_the_refused_input_screen_keeps_payloads_as_text(admin, site, xss):
    record = payload_record(site, P2 + " before")
    open_screen(admin, f"{site.url}/o/xss/{record}")
    admin.fill("#cb-f-name", P1 + " typed")
    admin.fill("#cb-f-count", P2)  # not a number: the card comes back (422) with everything typed
    admin.fill("#cb-f-body", P2 + "\n" + P1)
    with admin.expect_navigation():
        admin.click("#cb-save")
    assert admin.locator("#cb-error-summary").is_visible()
    assert admin.input_value("#cb-f-name") == P1 + " typed"
    assert admin.input_value("#cb-f-count") == P2
    assert admin.input_value("#cb-f-body") == P2 + "\n" + P1
    error = text(admin.locator("#cb-f-count-error"))
    assert "is not a number" in error, error
    summary = texts(admin.locator("#cb-error-summary li"))
    assert len(summary) == 1 and summary[0].startswith(LABELS["count"] + ": "), summary
    assert text(admin.locator("#cb-error-summary a.cb-error-link")) == LABELS["count"]
    assert RecordStore(site.db).get(SYSTEM, "xss", record)["name"] == P2 + " before"  # nothing saved
    assert_inert(admin, "422")


@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_saved_view_named_with_a_payload_shows_it_as_text(admin, site, xss, payload):
    name = payload + " view"
    open_screen(admin, f"{site.url}/o/xss?sort=name")
    admin.click("#cb-view-menu")
    admin.fill("#cb-view-name", name)
    with admin.expect_navigation():
        admin.click("#cb-view-save")
    assert text(admin.locator(".flash")) == f"View '{name}' saved."
    assert text(admin.locator("#cb-current-view")) == name
    assert selected_text(admin.locator("#cb-view-picker")) == name
    assert admin.input_value("#cb-view-name") == name and admin.input_value("#cb-view-rename") == name
    assert text(admin.locator('label[for="cb-view-overwrite"]')) == f'Replace "{name}"'
    assert admin.locator("#cb-delete-view-form").get_attribute("data-confirm") == f'Delete the view "{name}"?'
    assert_inert(admin, "saved view")
    # reopened from another page, the view's name is still text
    open_screen(admin, f"{site.url}/o/xss")
    assert name in texts(admin.locator("#cb-view-picker option"))
    assert_inert(admin, "saved view, listed")


@pytest.mark.parametrize("payload", [P2, '" autofocus onfocus="window.__xss=1'])
def test_a_filter_value_in_the_url_stays_in_its_attribute(admin, site, xss, payload):
    """Issue 19, point 2: the list's hidden filter input held ``tojson`` output, which does
    not escape '"' -- a filter value in the URL (or a view's or the table's filter) ended
    the attribute and added elements or handlers."""
    import json
    from urllib.parse import quote

    condition = {"field": "name", "op": "eq", "value": payload}
    open_screen(admin, f"{site.url}/o/xss?filter={quote(json.dumps(condition))}")
    assert json.loads(admin.locator("#cb-filter-value").get_attribute("value")) == condition
    assert admin.locator("[autofocus]").count() == 0
    assert_inert(admin, "filter in the URL")
