"""The interface in English and German: every string the code marks for translation has
a German translation, the catalogue compiles, and the language follows the user."""
from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from cardbase.platform import users
from cardbase.platform.app import create_app
from cardbase.platform.i18n import SOURCE_DIR, compiled_catalogues

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
