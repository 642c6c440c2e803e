"""Issue 19.9: common and trivial passwords are refused with a message naming the rule
(accounts.password_rules) -- through the engine, the CLI, the REST API, in English and German."""
from __future__ import annotations

import pytest
from babel.support import Translations

from cardbase.platform import users
from cardbase.platform.i18n import compiled_catalogues
from cardbase.schema_engine import i18n
from cardbase.schema_engine.accounts import users as accounts_users
from cardbase.schema_engine.accounts.password_rules import password_problem
from cardbase.schema_engine.actor import SYSTEM

from api_testlib import PASSWORD, api_for, error_of, make_app, make_users

# (password, the rule's words in the refusal); the user is "alice", "Alice Smith", asmith@example.com
REFUSED = [
    ("password", "at least 10 are needed"),
    ("        ", "at least 10 are needed"),
    ("          ", "repeats one character or a short pattern"),
    ("aaaaaaaaaaaa", "repeats one character or a short pattern"),
    ("abcabcabcabc", "repeats one character or a short pattern"),
    ("1234567890", "simple sequence"),
    ("abcdefghijk", "simple sequence"),
    ("qwertzuiop", "simple sequence"),
    ("qwerty2024!", "simple sequence"),
    ("password12", "commonly used password"),
    ("Password123!", "commonly used password"),
    ("p@ssw0rd2024", "commonly used password"),
    ("Passwort2024", "commonly used password"),
    ("letmein!!!!", "commonly used password"),
    ("welcome2024", "commonly used password"),
    ("cardbase123", "commonly used password"),
    ("admin123456", "commonly used password"),
    ("alicexyzabc", "must not contain your username"),
    ("xx-ALICE-2024-yy", "must not contain your username"),
    ("smith-and-sons-7", "must not contain your name"),
    ("asmith-rocks-9", "must not contain your e-mail address"),
]
ACCEPTED = ["s3cret-password", "correct horse battery", "violet-harbour-42", "Tz8#qLp2!mWx"]


@pytest.mark.parametrize("password, rule", REFUSED)
def test_the_engine_refuses_trivial_passwords_naming_the_rule(db, password, rule):
    db.create_system_tables()
    with pytest.raises(users.ValidationError) as info:
        accounts_users.create_user(db, SYSTEM, "alice", password, display_name="Alice Smith",
                                   email="asmith@example.com")
    assert set(info.value.errors) == {"password"} and rule in str(info.value.errors["password"])
    assert users.find_user(db, "alice") is None


@pytest.mark.parametrize("password", ACCEPTED)
def test_good_passwords_pass(password):
    assert password_problem(password, username="alice", display_name="Alice Smith", email="asmith@example.com") is None


def test_a_new_password_is_checked_against_the_users_own_name(db):
    db.create_system_tables()
    accounts_users.create_user(db, SYSTEM, "alice", PASSWORD, display_name="Alice Smith")
    with pytest.raises(users.ValidationError, match="must not contain your username"):
        users.set_password(db, "alice", "alicealice99")
    with pytest.raises(users.ValidationError, match="must not contain your name"):
        users.set_password(db, "alice", "smith-forever-1")


@pytest.mark.parametrize("password, rule", [("password", "at least 10"), ("          ", "repeats one character"),
                                            ("adminxyzabc", "must not contain your username"),
                                            ("Password123!", "commonly used"), ("1234567890", "simple sequence")])
def test_the_cli_refuses_them(cli, password, rule):
    assert cli("init", env={"CARDBASE_ADMIN_PASSWORD": "chief-pass-2024"}).exit_code == 0
    result = cli("user", "set-password", "admin", "--password", password)
    assert result.exit_code != 0 and rule in result.output, result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("password, rule", [("password", "at least 10"), ("        ", "at least 10"),
                                            ("samsamsam12", "must not contain your username"),
                                            ("Passwort2024", "commonly used"), ("qwertzuiop", "simple sequence"),
                                            ("zzzzzzzzzzzz", "repeats one character")])
def test_the_api_refuses_them(db, password, rule):
    make_users(db)
    app = make_app(db)
    root = api_for(app, db, "root")
    sam = users.find_user(db, "sam")
    response = root.patch(f"/api/v1/users/{sam.id}", {"password": password})
    assert response.status_code == 422
    assert rule in str(error_of(response)["fields"]["password"])
    created = root.post("/api/v1/users", {"username": "samsam", "password": password})
    assert created.status_code == 422 and "password" in error_of(created)["fields"]


def test_the_refusals_are_in_german():
    german = Translations.load(str(compiled_catalogues()), ["de"], domain="messages")
    token = i18n.use_language("de", german)
    try:
        assert password_problem("password") == "ist 8 Zeichen lang; mindestens 10 sind nötig"
        for password in ("aaaaaaaaaaaa", "1234567890", "Password123!"):
            problem = password_problem(password)
            assert problem is not None and problem == german.gettext(problem) and not problem.startswith(("is ", "repeats"))
        assert "Benutzernamen" in password_problem("alicealice99", username="alice")
    finally:
        i18n.reset_language(token)
