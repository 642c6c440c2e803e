"""Issue 14, point 8: every screen in German. The demo CRM with records is opened as the
admin, whose language is German, on every GET route of the app (every object for the
object routes; records, fields, children, groups, users and rule views filled from the
data); each page must open (no 5xx) and

* every gettext lookup made while rendering it must find a German translation in the
  catalogue (a recorder wraps the translations: this also catches dynamic lookups such as
  ``_(type.label)`` that ``make messages`` cannot extract), and
* no text the page shows may be an English interface string left untranslated (a text
  node, title, placeholder or aria-label equal to a catalogue msgid whose German differs).

Downloads (exports, the solution file, plotly.js) and pages outside a session (login,
invitations, health) are not screens and are left out."""
from __future__ import annotations

import re
from typing import Any, Callable, Iterator

import lxml.html
import pytest
from babel.messages.pofile import read_po
from babel.support import Translations

from api_testlib import PASSWORD, TEST_CONFIG, signed_in, templated

from cardbase.platform import users
from cardbase.platform.app import create_app
from cardbase.platform.i18n import SOURCE_DIR
from cardbase.schema_engine import rights
from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.query.model import ListQuery

NOT_SCREENS = {"lists.export", "reports.export", "reports.data", "reports.plotly_js", "designer.solution_export",
               "core.health", "auth.login", "invitation.accept", "admin.static", "designer.static", "static",
               "bootstrap.static"}
RECORDS = 60
IDENTIFIER = re.compile(r"[a-z_][a-z0-9_.]*")  # an API name shown as such (a webhook's field "phone")
# Texts that are the same word in both languages, or names rather than words.
SAME_IN_GERMAN = {"OK", "CSV", "XLSX", "JSON", "API", "E-Mail", "Name", "Status", "Code", "Version", "Admin",
                  "Filter", "Export", "Import", "Details", "Start", "Link", "Text", "Login", "Logout", "Dashboard",
                  "Plural", "Deutsch", "English", "Level", "Board"}


def _demo_with_records(db) -> None:
    from cardbase.platform.cli import initialise, load_demo

    initialise(db)
    users.set_password(db, "admin", PASSWORD)
    load_demo(db, RECORDS)
    users.create_group(db, SYSTEM, "Vertrieb")
    users.add_member(db, SYSTEM, "admin", "Vertrieb")
    rights.save_rule_view(db, SYSTEM, "Vertrieb", "deal", "Kleine Deals", {"field": "amount", "op": "lt", "value": 1000})


@pytest.fixture
def german_admin(db):
    templated(db, "demo_crm_records_14", _demo_with_records)
    users.update_user(db, SYSTEM, users.find_user(db, "admin").id, language="de")
    app = create_app(TEST_CONFIG, db=db)
    return app, signed_in(app, "admin", PASSWORD)


@pytest.fixture
def missing_lookups(monkeypatch) -> list[str]:
    """Every gettext lookup of a German catalogue that finds no translation."""
    misses: list[str] = []
    original = Translations.gettext

    def recording(self, message):
        catalog = getattr(self, "_catalog", None)
        if catalog is not None and catalog and isinstance(message, str) and message and message not in catalog:
            misses.append(message)
        return original(self, message)

    monkeypatch.setattr(Translations, "gettext", recording)
    monkeypatch.setattr(Translations, "ugettext", recording)
    return misses


def _english_strings() -> set[str]:
    with (SOURCE_DIR / "de" / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        catalog = read_po(fh, locale="de")
    out = set()
    for message in catalog:
        if not message.id or not isinstance(message.id, str) or not message.string:
            continue
        if message.string != message.id and "%(" not in message.id and re.search(r"[A-Za-z]{2}", message.id):
            out.add(message.id)
    return out - SAME_IN_GERMAN


def _english_choice_labels(db) -> set[str]:
    """The demo's choice labels that have a German label of their own (Qualified, Won ...)."""
    from cardbase.schema_engine.field_types.choice import choices_of

    out = set()
    for obj in db.schema().objects:
        for field in obj.user_fields:
            for english, german in zip(choices_of(field), choices_of(field, "de")):
                if english.get("label") != german.get("label"):
                    out.add(english["label"])
    return out


def _record_texts(db) -> set[str]:
    """Text values of the demo's records (a contact named Green is data, not interface)."""
    from cardbase.schema_engine.store.records import RecordStore

    store, out = RecordStore(db), set()
    for obj in db.schema().objects:
        texts = [f.api_name for f in obj.user_fields if f.ftype.value_type == "text" and f.type != "choice"]
        for record in store.list(SYSTEM, obj.api_name, ListQuery(limit=500, fields=texts or ["code"])).data:
            out.update(str(record[name]) for name in texts if record.get(name))
    return out


def _shown_texts(html: str) -> Iterator[str]:
    doc = lxml.html.fromstring(html)
    for bad in doc.xpath("//script|//style|//code|//pre|//textarea"):
        bad.drop_tree()
    for node in doc.xpath("//text()"):
        text = " ".join(str(node).split())
        if text:
            yield text
    for attr in ("title", "placeholder", "aria-label"):
        for value in doc.xpath(f"//@{attr}"):
            text = " ".join(str(value).split())
            if text:
                yield text
    for value in doc.xpath("//input[@type='submit' or @type='button']/@value"):
        yield str(value)


def _resolvers(db) -> dict[str, Callable[[str, dict[str, Any]], list[Any]]]:
    """Argument name -> values for an endpoint, given the arguments chosen so far."""
    schema = db.schema()
    objects = [o.api_name for o in schema.objects]
    from cardbase.schema_engine.store.records import RecordStore
    store = RecordStore(db)

    def first_record(obj: str) -> list[int]:
        page = store.list(SYSTEM, obj)
        return [page.data[0]["id"]] if page.data else []

    def field_names(endpoint: str, chosen: dict[str, Any]) -> list[str]:
        obj = schema.object(chosen["object_name"])
        fields = [f for f in obj.user_fields]
        if endpoint == "boards.board":
            fields = [f for f in fields if f.type == "choice"]
        elif endpoint == "boards.calendar":
            fields = [f for f in fields if f.ftype.value_type in ("date", "datetime")]
        elif endpoint == "cards.link_choices":
            fields = [f for f in fields if f.type == "link"]
        return [f.api_name for f in fields[:3]]

    def children(endpoint: str, chosen: dict[str, Any]) -> list[tuple[str, str]]:
        return [(c.api_name, link.api_name) for c, link in schema.children(schema.object(chosen["object_name"]))][:1]

    def one_of(sql: str) -> Callable[[str, dict], list[Any]]:
        def find(endpoint: str, chosen: dict) -> list[Any]:
            import sqlalchemy as sa
            with db.read() as conn:
                return [r[0] for r in conn.execute(sa.text(sql)).all()][:1]
        return find

    return {
        "object_name": lambda endpoint, chosen: objects,
        "record_id": lambda endpoint, chosen: first_record(chosen["object_name"]),
        "field_name": field_names,
        "child_name": children,  # with link_name, as a pair
        "group_id": one_of("SELECT id FROM cb_group ORDER BY id"),
        "user_id": one_of("SELECT id FROM cb_user ORDER BY id"),
        "view_id": one_of("SELECT id FROM cb_rule_view ORDER BY id"),
    }


def _urls(app, db) -> tuple[list[tuple[str, str]], list[str]]:
    """(endpoint, url) of every screen, and the endpoints whose arguments cannot be filled."""
    resolvers = _resolvers(db)
    out, skipped = [], []
    with app.test_request_context():
        from flask import url_for
        for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
            if "GET" not in rule.methods or rule.rule.startswith("/api") or rule.endpoint in NOT_SCREENS \
                    or rule.endpoint.endswith(".static"):
                continue
            args = sorted(rule.arguments - {"link_name"}, key=lambda a: a != "object_name")
            if any(a not in resolvers for a in args):
                skipped.append(rule.endpoint)
                continue
            combos: list[dict[str, Any]] = [{}]
            for arg in args:
                grown = []
                for chosen in combos:
                    for value in resolvers[arg](rule.endpoint, chosen):
                        if arg == "child_name":
                            grown.append({**chosen, "child_name": value[0], "link_name": value[1]})
                        else:
                            grown.append({**chosen, arg: value})
                combos = grown
            for chosen in combos:
                if set(chosen) >= rule.arguments:
                    out.append((rule.endpoint, url_for(rule.endpoint, **chosen)))
    return out, skipped


def test_every_screen_opens_in_german_without_an_untranslated_message(german_admin, db, missing_lookups):
    app, admin = german_admin
    urls, skipped = _urls(app, db)
    endpoints = {e for e, _u in urls}
    assert {"lists.index", "cards.card", "cards.new", "cards.trash", "boards.board", "boards.calendar", "search.results",
            "designer.index", "designer.object_edit", "designer.field_edit", "designer.field_new", "admin.users",
            "admin.groups", "core.home", "own_account.page"} <= endpoints, sorted(endpoints)
    english = _english_strings() | _english_choice_labels(db)
    data = _record_texts(db)
    leftovers: dict[str, set[str]] = {}
    lookups: dict[str, set[str]] = {}
    broken = []
    for endpoint, url in urls:
        missing_lookups.clear()
        response = admin.get(url + ("&" if "?" in url else "?") + "q=a" if endpoint == "search.results" else url)
        if response.status_code >= 500:
            broken.append((url, response.status_code))
            continue
        if missing_lookups:
            lookups.setdefault(endpoint, set()).update(missing_lookups)
        if response.mimetype != "text/html":
            continue
        found = {t for t in _shown_texts(response.get_data(as_text=True))
                 if t in english and t not in data and not IDENTIFIER.fullmatch(t)}
        if found:
            leftovers.setdefault(endpoint, set()).update(found)
    assert broken == []
    problems = {"no German in the catalogue": lookups, "English left on the screen": leftovers}
    assert problems == {"no German in the catalogue": {}, "English left on the screen": {}}, problems
    assert len(urls) > 60, len(urls)
