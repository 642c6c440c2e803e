"""The user's own settings (/account/language, web/account.py): the language is kept on the
user; a language cardbase does not have is refused with a message and changes nothing;
the ``next`` page is followed only when it is a local path -- never another site."""
from __future__ import annotations

import re

import pytest

from cardbase.platform import users

from api_testlib import PASSWORD, crm_app
from api_testlib import signed_in as sign_in


@pytest.fixture
def app(db):
    return crm_app(db)  # users root (admin), sam, kim


def signed_in(app, username: str = "sam"):
    return sign_in(app, username, PASSWORD)


def choose(client, language: str, next_page: str | None = None):
    data = {"language": language, **({"next": next_page} if next_page is not None else {})}
    return client.post("/account/language", data=data)


def target(response) -> str:
    """Where a redirect leads, as a path on this site ("" when it leads elsewhere)."""
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    location = response.headers["Location"]
    match = re.fullmatch(r"(?:http://localhost)?(/[^/\\].*|/)", location)
    return match.group(1) if match else ""


def flashes(client) -> list[tuple[str, str]]:
    body = client.get("/").get_data(as_text=True)
    return [(kind, re.sub(r"<[^>]+>", "", text).strip())
            for kind, text in re.findall(r'<div class="alert alert-(\w+) py-2 flash"[^>]*>(.*?)</div>', body, re.S)]


def language_of(db, username: str) -> str | None:
    return users.find_user(db, username).language


def test_a_language_is_kept_on_the_user_and_the_next_page_follows(app, db):
    sam = signed_in(app)
    assert target(choose(sam, "de", "/o/deal?sort=title")) == "/o/deal?sort=title"
    assert language_of(db, "sam") == "de"
    assert '<html lang="de">' in sam.get("/o/deal").get_data(as_text=True)
    assert '<html lang="de">' in signed_in(app).get("/").get_data(as_text=True)  # another device follows
    assert target(choose(sam, "en")) == "/"  # no next: the home page
    assert language_of(db, "sam") == "en"


@pytest.mark.parametrize("language", ["fr", "", "DE", "de-AT", "en; drop table cb_user", "x" * 500])
def test_an_unknown_language_is_refused_with_a_message(app, db, language):
    sam = signed_in(app)
    choose(sam, "de")
    response = choose(sam, language, "/o/deal")
    assert target(response) == "/o/deal"  # back where the user was
    assert language_of(db, "sam") == "de"  # nothing changed
    messages = flashes(sam)
    assert len(messages) == 1 and messages[0][0] == "danger", messages
    assert messages[0][1] in ("Unknown language.", "Unbekannte Sprache.")
    assert "drop table" not in messages[0][1]  # the value sent is not echoed


@pytest.mark.parametrize("next_page", [
    "//evil.example", "//evil.example/o/deal", "http://evil.example", "https://evil.example/login",
    "/\\evil.example", "\\\\evil.example", "javascript:alert(1)", "evil.example", " //evil.example",
    "/\t/evil.example", "http:/evil.example", "", "HTTP://EVIL.EXAMPLE",
])
def test_an_unsafe_next_page_is_not_followed(app, db, next_page):
    sam = signed_in(app)
    for language in ("de", "nonsense"):  # neither a good nor a refused choice leads off the site
        response = choose(sam, language, next_page)
        assert target(response) == "/", (language, next_page, response.headers["Location"])
        assert "evil" not in response.headers["Location"]
    assert language_of(db, "sam") == "de"


def test_only_signed_in_users_choose_a_language(app, db):
    anonymous = app.test_client()
    response = choose(anonymous, "de", "/o/deal")
    assert response.status_code == 401
    assert all(language_of(db, name) != "de" for name in ("root", "sam", "kim"))
    assert signed_in(app).get("/account/language").status_code == 405
