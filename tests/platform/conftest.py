"""Fixtures for the platform tests: a CLI runner bound to a database, and a Flask app.

Argon2 is deliberately slow (~0.1-0.5 s per hash); most tests swap in a cheap Argon2
hasher (same algorithm and format, tiny cost) so the suite stays fast. Tests that check
the real parameters ask for ``real_hasher``.
"""
from __future__ import annotations

from typing import Any, Callable

import pytest
from argon2 import PasswordHasher
from click.testing import CliRunner, Result

from cardbase.schema_engine.accounts import passwords
from cardbase.platform.cli import main

# Variables that would leak the developer's environment into a test.
CLEAN_ENV = {"CARDBASE_ADMIN_PASSWORD": None, "CARDBASE_SECRET_KEY": None, "CARDBASE_DATABASE_URL": None,
             "PORT": None}


@pytest.fixture(autouse=True)
def cheap_hasher(request, monkeypatch):
    if "real_hasher" in request.fixturenames:
        return
    hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(passwords, "_hasher", hasher)
    monkeypatch.setattr(passwords, "_DUMMY_HASH", hasher.hash("cardbase: no such user"))


@pytest.fixture
def real_hasher():
    """Marker fixture: keep the production Argon2 parameters."""
    return passwords._hasher


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in CLEAN_ENV:
        monkeypatch.delenv(name, raising=False)


CliFn = Callable[..., Result]


def make_cli(url: str) -> CliFn:
    """``cli("init")`` runs ``cardbase --database-url URL init`` in-process."""
    runner = CliRunner()

    def cli(*args: str, env: dict[str, Any] | None = None, input: str | None = None) -> Result:
        return runner.invoke(main, ["--database-url", url, *args], env={**CLEAN_ENV, **(env or {})},
                             input=input, catch_exceptions=False)
    return cli


@pytest.fixture
def new_url(engine_name, make_database) -> str:
    """URL of a new EMPTY database on the engine under test."""
    return make_database(engine_name)


@pytest.fixture
def cli(new_url) -> CliFn:
    return make_cli(new_url)


@pytest.fixture
def cli_for() -> Callable[[str], CliFn]:
    """Factory fixture: ``cli_for(url)`` is a ``cli`` for another database."""
    return make_cli


@pytest.fixture
def root(app, db):
    """The API as the admin "root" (for modules whose ``app`` fixture has the API test users)."""
    from api_testlib import api_for

    return api_for(app, db, "root")
