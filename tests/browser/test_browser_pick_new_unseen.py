"""'+ New' in a link picker when the new record would be out of the user's sight, in
Chromium (English and German, desktop and phone width): under record scope "none" the
picker offers no "+ New"; when only the saved values decide (a rule view the new record
does not match), the window says it was created but cannot be chosen, and the picker
stays empty."""
from __future__ import annotations

import pytest

from cardbase.platform import users
from cardbase.schema_engine import rights
from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.query.model import ListQuery
from cardbase.schema_engine.rights.scopes import set_record_scope
from cardbase.schema_engine.store.records import RecordStore

WIDTHS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
UNSEEN = {"en": "You cannot see it under your rights, so it cannot be chosen here.",
          "de": "Sie können ihn mit Ihren Rechten nicht sehen, daher kann er hier nicht ausgewählt werden."}


@pytest.fixture
def scoped(site):
    def set_scope(scope: str | None) -> None:
        set_record_scope(site.db, SYSTEM, "Sales", "organisation", scope)
    yield set_scope
    set_scope(None)
    for view in rights.rule_views(site.db, "organisation"):
        rights.delete_rule_view(site.db, SYSTEM, view["id"])
    users.update_user(site.db, SYSTEM, "sam", language="en")


@pytest.mark.parametrize("language", ["en", "de"])
@pytest.mark.parametrize("width", ["desktop", "phone"])
def test_no_new_when_the_record_would_be_unreadable(page, site, login, screenshot, scoped, language, width):
    users.update_user(site.db, SYSTEM, "sam", language=language)
    login(page, "sam")
    page.set_viewport_size(WIDTHS[width])
    page.goto(f"{site.url}/o/deal/new")
    assert page.locator('a.cb-link-new[data-pick="cb-f-organisation"]').count() == 1  # scope "all": offered
    scoped("none")
    page.reload()
    page.locator("#cb-f-organisation").wait_for()
    assert page.locator('a.cb-link-new[data-pick="cb-f-organisation"]').count() == 0
    assert page.locator("#cb-f-organisation").is_visible()  # the picker itself stays
    page.locator("#cb-f-organisation").scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot(page, f"pick-new-none-{width}-{language}")))
    assert page.js_errors == []


@pytest.mark.parametrize("language", ["en", "de"])
def test_a_new_record_out_of_sight_is_not_chosen_and_the_window_says_why(page, site, login, screenshot, scoped,
                                                                        language):
    scoped("rule_views")
    rights.save_rule_view(site.db, SYSTEM, "Sales", "organisation", "Berlin only",
                          {"field": "name", "op": "contains", "value": "Berlin"})
    users.update_user(site.db, SYSTEM, "sam", language=language)
    login(page, "sam")
    page.goto(f"{site.url}/o/deal/new")
    with page.expect_popup() as info:
        page.click('a.cb-link-new[data-pick="cb-f-organisation"]')
    popup = info.value
    popup.wait_for_selector("#cb-f-name")
    name = f"Hamburg Hafen {language} GmbH"
    popup.fill("#cb-f-name", name)
    popup.click("#cb-save")
    popup.locator("#cb-picked-unseen").wait_for()
    assert UNSEEN[language] in popup.inner_text("#cb-picked")
    assert not popup.is_closed() and name not in popup.inner_text("main")
    assert page.locator('input[name="f-organisation"]').input_value() == ""  # nothing chosen
    assert [r for r in RecordStore(site.db).list(SYSTEM, "organisation", ListQuery(limit=500)).data
            if r["name"] == name]  # created all the same
    popup.set_viewport_size(WIDTHS["phone"])
    popup.screenshot(path=str(screenshot(popup, f"pick-new-unseen-{language}")))
    assert page.js_errors == []
