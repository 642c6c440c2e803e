"""Stored script payloads show as text on every screen, and no script of theirs runs.

An object with one field of EVERY field type, whose labels (object, fields, choices), text
values, linked records' display values, lookup and formula results, a user's display name
and history entries are the payloads below. Each screen is opened in Chromium; the test
checks that ``window.__xss`` stays undefined, that the page has no script error and no
Content-Security-Policy script violation (an injected inline script or handler would be
blocked by the CSP and reported: the CSP is the second wall, escaping the first), that no
element or handler was injected, and that the payload text is visible as text.
"""
from __future__ import annotations

import pytest

from cardbase.platform import users
from cardbase.schema_engine.actor import SYSTEM
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


@pytest.fixture(scope="module")
def xss(site) -> dict:
    """The payload objects and records in the module's site (created once)."""
    svc, store = SchemaService(site.db), RecordStore(site.db)
    svc.create_object(SYSTEM, {"name": "xss_target", "label": P1, "label_plural": P2, "fields": [
        {"name": "name", "label": P2, "type": "string"}]})
    svc.create_object(SYSTEM, {
        "name": "xss", "label": P2 + " record", "label_plural": P1 + " records", "code_pattern": "X-{0000}",
        "fields": [{"name": n, "label": label(i, n), "type": t, **({"options": o} if o else {})}
                   for i, (n, t, o) in enumerate(FIELDS)]})
    svc.create_object(SYSTEM, {"name": "xss_line", "label": P1 + " line", "label_plural": P2 + " lines", "fields": [
        {"name": "name", "label": P1 + " name", "type": "string"},
        {"name": "parent", "label": P2 + " parent", "type": "link", "options": {"target": "xss", "on_delete": "cascade"}},
        {"name": "amount", "label": P1 + " amount", "type": "integer"}]})
    svc.add_field(SYSTEM, "xss", {"name": "rolled", "label": P2 + " rolled", "type": "rollup", "options": {
        "child": "xss_line", "link": "parent", "field": "amount", "aggregate": "sum"}})
    types = {f.type for f in site.db.schema().object("xss").user_fields}
    assert types == TYPES, TYPES ^ types
    mallory = users.create_user(site.db, "mallory", "mallory-pass-123", display_name=P2)
    targets = [store.create(SYSTEM, "xss_target", {"name": p}) for p in PAYLOADS]
    records = []
    for i, payload in enumerate(PAYLOADS):
        records.append(store.create(SYSTEM, "xss", {
            "name": payload, "body": PAYLOADS[1 - i], "count": i + 1, "ratio": "1.5", "price": "2",
            "day": "2026-11-10", "moment": "2026-11-10T10:00:00Z", "flag": bool(i), "pick": "ab"[i],
            "picks": ["a", "b"], "mail": "a@example.com", "tel": "+49 30 1234567",
            "site": "https://example.com/?q=%22%3E%3Cimg%20src=x%20onerror=window.__xss=1%3E",
            "target": targets[i]["id"], "person": mallory.id}))
        store.create(SYSTEM, "xss_line", {"name": payload, "parent": records[-1]["id"], "amount": 3})
    # history with payloads on both sides
    first = store.get(SYSTEM, "xss", records[0]["id"])
    store.update(SYSTEM, "xss", first["id"], {"body": P1 + P2, "pick": "b"}, version=first["version"])
    return {"record": first["id"], "target": targets[0]["id"], "line_object": "xss_line"}


def screens(xss: dict) -> list[tuple[str, str]]:
    rid = xss["record"]
    return [("list", "/o/xss"), ("card", f"/o/xss/{rid}"), ("history", f"/o/xss/{rid}"), ("new card", "/o/xss/new"),
            ("board", "/o/xss/board"), ("calendar", "/o/xss/calendar?month=2026-11"),
            ("calendar of a datetime", "/o/xss/calendar/moment?month=2026-11"),
            ("search", "/search?q=window"), ("linked record", f"/o/xss_target/{xss['target']}"),
            ("child list", "/o/xss_line")]


SCREENS = ["list", "card", "history", "new card", "board", "calendar", "calendar of a datetime", "search",
           "linked record", "child list"]


@pytest.mark.parametrize("screen", SCREENS)
def test_payloads_show_as_text_and_never_run(page, site, login, xss, screen):
    path = dict(screens(xss))[screen]
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text)
            if "Content Security Policy" in m.text and "script" in m.text else None)
    login(page, "admin")
    response = page.goto(site.url + path)
    assert response.status == 200, (screen, path, response.status)
    page.wait_for_load_state("load")
    if screen == "history":  # the card's History tab: old and new values of the change
        page.locator(".cb-card-tabs [role=tab]").last.click()
        history = page.locator(".cb-history")
        history.wait_for()
        assert P1 + P2 in history.inner_text() and P2 in history.inner_text()
    assert page.evaluate("typeof window.__xss") == "undefined", screen
    assert page.js_errors == [], (screen, page.js_errors)
    assert violations == [], (screen, violations)  # no script was injected for the CSP to block
    assert page.locator("img[src=x]").count() == 0, screen
    # data blocks (<script type="application/json">) may hold the payload, escaped; no script may
    assert page.evaluate("[...document.scripts].filter(s => s.type !== 'application/json'"
                         " && s.textContent.includes('__xss')).length") == 0, screen
    assert page.evaluate("[...document.querySelectorAll('script[type=\"application/json\"]')]"
                         ".every(s => { try { JSON.parse(s.textContent); return true; } catch (e) { return false; } })"), screen
    assert page.evaluate("[...document.querySelectorAll('*')].filter(e => [...e.attributes]"
                         ".some(a => a.name.startsWith('on'))).length") == 0, screen
    text = page.locator("body").inner_text()
    assert P1 in text or P2 in text, (screen, text[:2000])
