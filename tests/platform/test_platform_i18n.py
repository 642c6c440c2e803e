"""The interface in English and German: every string the code marks for translation has
a German translation, the catalogue compiles, and the language follows the user."""
from __future__ import annotations

import io
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from test_platform_web_cards import PASSWORD, TEST_CONFIG, build, form_of

from cardbase.platform import users
from cardbase.platform.app import create_app
from cardbase.platform.i18n import SOURCE_DIR, compiled_catalogues
from cardbase.schema_engine import i18n as engine_i18n
from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.field_types import FieldValueError
from cardbase.schema_engine.field_types.decimal import to_decimal
from cardbase.schema_engine.schema_service import SchemaService
from cardbase.schema_engine.store.records import RecordStore

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "cardbase"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}


def _method_map() -> list[tuple[str, str]]:
    """The patterns of babel.cfg (what `make messages` extracts)."""
    methods = []
    for line in (ROOT / "babel.cfg").read_text().splitlines():
        line = line.strip()
        if line.startswith("[") and ":" in line:
            method, pattern = line.strip("[]").split(":", 1)
            methods.append((pattern.strip(), method.strip()))
    return methods


def _marked_strings() -> set[str]:
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
            str(PACKAGE), method_map=_method_map(), keywords=KEYWORDS):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


def test_every_marked_string_has_a_german_translation():
    marked = _marked_strings()
    assert len(marked) > 20  # the extraction found the interface
    with (SOURCE_DIR / "de" / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        catalog = read_po(fh, locale="de")
    missing = sorted(m for m in marked if not (catalog.get(m) and catalog.get(m).string))
    assert missing == [], f"{len(missing)} strings without German translation (run `make messages`): {missing[:20]}"


def test_catalogues_compile_into_a_cache_keyed_by_content():
    first = compiled_catalogues()
    assert (first / "de" / "LC_MESSAGES" / "messages.mo").stat().st_size > 0
    assert compiled_catalogues() == first


@pytest.fixture
def app(db):
    db.create_system_tables()
    return create_app({"TESTING": True, "WTF_CSRF_ENABLED": False, "SECRET_KEY": "test",
                       "CARDBASE_LOGIN_SLEEP": lambda seconds: None}, db=db)


def test_login_page_follows_the_browser_and_pages_follow_the_user(db, app):
    client = app.test_client()
    assert "Anmelden" in client.get("/login", headers={"Accept-Language": "de-DE,de;q=0.9"}).get_data(as_text=True)
    assert "Log in" in client.get("/login", headers={"Accept-Language": "en-US"}).get_data(as_text=True)
    users.create_user(db, "grete", "a-long-password-1", language="de")
    client.post("/login", data={"username": "grete", "password": "a-long-password-1"})
    html = client.get("/", headers={"Accept-Language": "en-US"}).get_data(as_text=True)
    assert '<html lang="de">' in html and "Abmelden" in html


# ---- the engine's messages ------------------------------------------------------------------
def test_a_german_user_gets_the_stores_messages_in_german(db):
    """Values that do not fit, a missing required field, a broken field rule and a refused
    right reach a German user in German (with the field labels in German too), an English
    user and the REST API in English, and nothing is written."""
    ids = build(db)
    SchemaService(db).set_translations(SYSTEM, "deal", {"de": {"label": "Phase"}}, field_ref="stage")
    users.create_user(db, "grete", PASSWORD, is_admin=True, language="de")
    app = create_app(TEST_CONFIG, db=db)
    client = app.test_client()
    assert client.post("/login", data={"username": "grete", "password": PASSWORD}).status_code == 302
    page = client.get(f"/o/deal/{ids['deal']}").get_data(as_text=True)
    response = client.post(f"/o/deal/{ids['deal']}", data={
        **form_of(page), "f-email": "ann@", "f-site": "ftp://x", "f-qty": "viel", "f-probability": "2,5"})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "&#39;viel&#39; ist keine Zahl (schreiben Sie z. B. 1.234,56)" in body
    assert "&#39;2,5&#39; ist keine ganze Zahl" in body
    too_long = client.post(f"/o/deal/{ids['deal']}", data={**form_of(page), "f-title": "x" * 101})
    assert "Länger als die höchste Länge von 100 Zeichen." in too_long.get_data(as_text=True)  # marshmallow's
    assert "ist keine gültige E-Mail-Adresse (erwartet z. B. name@example.com)" in body
    assert "nur http- und https-Adressen sind erlaubt" in body and "not a valid e-mail" not in body
    response = client.post(f"/o/deal/{ids['deal']}", data={
        **form_of(page), "f-title": "", "f-stage": "lost", "f-lost_reason": ""})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "ist ein Pflichtfeld" in body and "ist Pflicht, wenn Phase = lost" in body
    assert "is required" not in body
    assert RecordStore(db).get(SYSTEM, "deal", ids["deal"])["version"] == 1

    english = app.test_client()
    assert english.post("/login", data={"username": "sam", "password": PASSWORD}).status_code == 302
    page = english.get(f"/o/deal/{ids['deal']}", headers={"Accept-Language": "de"}).get_data(as_text=True)
    body = english.post(f"/o/deal/{ids['deal']}", data={**form_of(page), "f-email": "ann@"}).get_data(as_text=True)
    assert "is not a valid e-mail address" in body  # sam's own language is English

    token = client.post("/api/v1/auth/token", json={"username": "grete", "password": PASSWORD}).get_json()["token"]
    answer = client.patch(f"/api/v1/records/deal/{ids['deal']}", json={"email": "ann@", "version": 1},
                          headers={"Authorization": f"Bearer {token}", "Accept-Language": "de"})
    assert answer.status_code == 422
    assert answer.get_json()["error"]["fields"]["email"] == ["'ann@' is not a valid e-mail address "
                                                             "(expected e.g. name@example.com)"]


def test_engine_messages_are_english_outside_a_request_and_reset_after_one():
    with (SOURCE_DIR / "de" / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        catalog = read_po(fh, locale="de")
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    token = engine_i18n.use_language("de", Translations(buffer))
    try:
        with pytest.raises(FieldValueError, match="ist keine Zahl"):
            to_decimal("viel")
        assert engine_i18n.right_verb("edit") == "bearbeiten" and engine_i18n.language() == "de"
    finally:
        engine_i18n.reset_language(token)
    with pytest.raises(FieldValueError, match="is not a number"):
        to_decimal("viel")
    assert engine_i18n.language() == "en"
