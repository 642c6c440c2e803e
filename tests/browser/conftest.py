"""Browser tests: Playwright driving Debian's Chromium (/usr/bin/chromium, headless)
against a real cardbase served on loopback.

Fixtures
  site        (module) a fresh SQLite cardbase with the demo CRM, served by a werkzeug
              thread: ``site.url``, ``site.db``, ``site.users`` {"admin", "sam", "junior"}
              (passwords in ``site.passwords``); sam is in group Sales (read, create,
              edit, delete on every demo object, no configure); junior is in group Junior
              (read on every demo object, nothing else). A copy of ``site_template``
              (session), which builds that database once.
  browser     (session) the Chromium browser.
  page        a new browser context and page per test (no shared cookies).
  login       ``login(page, "sam")`` signs in through the login form (``ready=`` another
              selector to wait for, e.g. the phone layout's collapsed menu).
  screenshot  ``screenshot(page, "list")`` saves test-artifacts/screenshots/<name>.png.

Environment: CHROMIUM=/path overrides the browser. Without Chromium or Playwright the
tests skip locally, and fail under CI=true (CI must run them: .ci/run installs chromium).
"""
from __future__ import annotations

import os
import shutil
import socket
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pytest
from argon2 import PasswordHasher
from werkzeug.serving import make_server

from cardbase.platform import users
from cardbase.platform.app import create_app
from cardbase.platform.cli import initialise, load_demo
from cardbase.platform.context import actor_for
from cardbase.schema_engine.accounts import passwords
from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.db import Database
from cardbase.schema_engine.rights import admin as rights_admin

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]
PASSWORDS = {"admin": "chief-pass-2024", "sam": "blue-river-47", "junior": "green-hill-58"}


def _on_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).parent == here:
            item.add_marker(pytest.mark.browser)


def chromium_path() -> str | None:
    path = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    return path if Path(path).exists() else None


def _need(what: str) -> None:
    message = f"{what}: install it (apt-get install chromium; pip install -e '.[test]')"
    if _on_ci():
        pytest.fail(f"CI must run the browser tests, but {message}")
    pytest.skip(message)


@dataclass
class Site:
    url: str
    db: Database
    users: dict[str, int] = field(default_factory=dict)
    passwords: dict[str, str] = field(default_factory=lambda: dict(PASSWORDS))

    def actor(self, username: str):
        return actor_for(users.find_user(self.db, username), self.db)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cheap_hasher() -> tuple:
    """Swap in a cheap Argon2 hasher; returns what to restore."""
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    saved = passwords._hasher, passwords._DUMMY_HASH
    passwords._hasher, passwords._DUMMY_HASH = cheap, cheap.hash("cardbase: no such user")
    return saved


@pytest.fixture(scope="session")
def site_template(tmp_path_factory) -> Path:
    """The demo CRM with its users and groups, built once per session (initialise, 300
    demo records, rights); every module's ``site`` gets a copy of the file."""
    saved = _cheap_hasher()
    path = tmp_path_factory.mktemp("site-template") / "cardbase.db"
    db = Database(f"sqlite:///{path}")
    try:
        initialise(db)
        users.set_password(db, "admin", PASSWORDS["admin"])
        load_demo(db, 300)
        objects = [o.api_name for o in db.schema().objects]
        for username, group, rights in (("sam", "Sales", ("read", "create", "edit", "delete", "export")),
                                        ("junior", "Junior", ("read",))):
            users.create_user(db, username, PASSWORDS[username], display_name=username.title())
            users.create_group(db, SYSTEM, group)
            users.add_member(db, SYSTEM, username, group)
            for name in objects:
                rights_admin.set_object_rights(db, SYSTEM, group, name, rights)
    finally:
        db.dispose()  # the last connection checkpoints the WAL into the file
        passwords._hasher, passwords._DUMMY_HASH = saved
    return path


@pytest.fixture(scope="module")
def site(site_template, tmp_path_factory) -> Any:
    saved = _cheap_hasher()
    path = tmp_path_factory.mktemp("site") / "cardbase.db"
    shutil.copyfile(site_template, path)
    db = Database(f"sqlite:///{path}")
    ids = {name: users.find_user(db, name).id for name in PASSWORDS}
    app = create_app({"TESTING": False, "WTF_CSRF_ENABLED": True, "CARDBASE_LOGIN_SLEEP": lambda s: None}, db=db)
    port = _free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Site(url=f"http://127.0.0.1:{port}", db=db, users=ids)
    finally:
        server.shutdown()
        thread.join(5)
        db.dispose()
        passwords._hasher, passwords._DUMMY_HASH = saved


@pytest.fixture(scope="session")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - the test extra installs it
        _need("the playwright package is missing")
    executable = chromium_path()
    if executable is None:
        _need("Chromium (/usr/bin/chromium) is missing")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(10_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.js_errors = errors  # tests assert no script error happened
    yield page
    context.close()


@pytest.fixture
def new_page(browser) -> Callable[..., Any]:
    """Another independent session (a second user, or the same user twice)."""
    contexts = []

    def make(**options):
        context = browser.new_context(**{"viewport": {"width": 1280, "height": 900}, **options})
        contexts.append(context)
        p = context.new_page()
        p.set_default_timeout(10_000)
        return p
    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def login(site) -> Callable[[Any, str], Any]:
    from designer_browserlib import sign_in

    def do(page, username: str = "admin", ready: str = "#cb-user-menu"):
        return sign_in(page, site.url, username, site.passwords[username], ready=ready)
    return do


@pytest.fixture
def screenshot() -> Callable[[Any, str], Path]:
    def take(page, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path
    return take
