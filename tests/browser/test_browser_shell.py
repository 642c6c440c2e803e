"""The page shell in a real browser: log in, the menu from the metadata, German."""
from __future__ import annotations

from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.schema_service import SchemaService


def test_login_shows_the_menu_built_from_the_metadata(page, site, login, screenshot):
    page.goto(site.url + "/")
    assert "/login" in page.url  # anonymous visitors land on the login form
    login(page, "sam")
    expected = [o.label_plural for o in sorted(site.db.schema().objects, key=lambda o: (o.position, o.id))]
    shown = page.locator(".cb-objects .nav-link").all_inner_texts()
    assert shown == expected
    screenshot(page, "home")
    assert page.js_errors == []


def test_wrong_password_is_refused_with_a_message(page, site):
    page.goto(site.url + "/login")
    page.fill("#username", "sam")
    page.fill("#password", "not the password")
    page.click("button[type=submit]")
    assert "Wrong username or password." in page.inner_text(".alert-danger")


def test_switching_to_german_translates_the_interface_and_the_labels(page, site, login):
    SchemaService(site.db).set_translations(SYSTEM, "organisation", {"de": {"label": "Firma", "label_plural": "Firmen"}})
    try:
        login(page, "junior")
        page.click("#cb-user-menu")
        page.select_option("#cb-language", "de")
        page.wait_for_selector("html[lang=de]")
        assert "Firmen" in page.locator(".cb-objects").inner_text()
        page.click("#cb-user-menu")
        assert page.inner_text("#cb-logout") == "Abmelden"
        page.click("#cb-logout")
        page.wait_for_selector("#username")
        assert page.inner_text("h1") in ("Anmelden", "Log in")  # anonymous: the browser's language
    finally:
        SchemaService(site.db).set_translations(SYSTEM, "organisation", {})
        from cardbase.platform import users
        users.update_user(site.db, SYSTEM, "junior", language="en")
