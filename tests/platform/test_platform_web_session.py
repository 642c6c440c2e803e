"""One session per request on the end-user web: a page is one engine session -- one
transaction for the page's reads, one schema snapshot check, one rights check -- and a
card reads its record once.

Counted with SQLAlchemy's ``before_cursor_execute`` and ``begin`` listeners on the app's
engine, for the GET of a page by a signed-in NON-admin user (sam of the Sales group,
whose field rights hide one deal field and make another read-only), on the card test
schema of test_platform_web_cards (a Deal with an organisation link, a part set of lines,
a rollup, a related list of tasks, a user field):

* schema version checks: statements ``SELECT schema_version FROM cb_meta_state ...``
  (``snapshot.current_version``, asked once per transaction that takes the snapshot);
* rights version checks: ``SELECT version FROM cb_rights_state ...``
  (``rights.models.rights_version``, asked once per transaction that reads with rights);
* reads of the record: SELECTs *from the deal's physical table* ``obj_<deal id>`` whose
  WHERE names the record's id as a bound parameter and that select the record's columns
  (its ``version`` column among them): the record itself, as the card shows it. The
  record-rights query of the card's buttons (``SELECT CASE WHEN <rule> ...`` for
  read/edit/delete, no record column) is counted apart and may run once; reads of other
  tables that merely join or filter on the deal (the lines of its part set, the tasks
  linking to it, its history) are not reads of the record;
* transactions: the engine's ``begin`` events (the pysqlite recipe emits BEGIN there;
  PostgreSQL begins there too), each with the statements run in it. The page's work must
  be ONE transaction; the sign-in's own read before it -- flask-login's user loader
  reads the session (``cb_login_session``), the user (``cb_user``) and their groups (``cb_user_group``) in one small
  transaction (accounts.users.user_for_session) -- is counted in the total but is not
  the page's.

The figures before the change (issue 12, measured on the same fixtures): Deal card 14
transactions / 28 statements / 18 version checks, Organisation card 17 transactions.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import pytest
from sqlalchemy import event

from test_platform_web_cards import PASSWORD, TEST_CONFIG, build

from cardbase.platform.app import create_app

SCHEMA_VERSION = re.compile(r"select\s+schema_version\s+from\s+cb_meta_state", re.I)
RIGHTS_VERSION = re.compile(r"select\s+version\s+from\s+cb_rights_state", re.I)


SIGN_IN_TABLES = {"cb_login_session", "cb_user", "cb_user_group"}


@dataclass
class Tally:
    statements: list[tuple[str, object]] = field(default_factory=list)
    begins: int = 0
    transactions: list[list[str]] = field(default_factory=list)

    def page_transactions(self) -> list[list[str]]:
        """The transactions that are not the sign-in's reads of the user and their groups."""
        out = []
        for statements in self.transactions:
            tables = {t for sql in statements for t in re.findall(r"\b(?:FROM|JOIN|INTO|UPDATE)\s+\"?(\w+)", sql, re.I)}
            if statements and not tables <= SIGN_IN_TABLES:
                out.append(statements)
        return out

    def matching(self, pattern: re.Pattern) -> list[str]:
        return [sql for sql, _params in self.statements if pattern.search(sql)]

    def record_reads(self, table: str, record_id: int) -> tuple[list[str], list[str]]:
        """(reads of the record, record-rights queries): SELECTs from ``table`` whose
        WHERE names ``record_id`` (a bound parameter), split by whether they select the
        record's columns (its version) or only the rights' CASE expressions."""
        reads, rights = [], []
        for sql, params in self.statements:
            flat = " ".join(sql.split())
            if not flat.lower().startswith("select") or " where " not in flat.lower():
                continue
            head, _sep, where = flat.partition(" FROM ")
            tables = re.findall(r"\bobj_\d+\b", where.split(" WHERE ")[0])
            if not tables or tables[0] != table:
                continue  # not selected from the deal's own table (a join from another table)
            if record_id not in _values(params) or not re.search(rf"\b{table}\.id (?:=|IN)", where):
                continue
            if re.search(r"\bversion\b", head):
                reads.append(flat)
            else:
                rights.append(flat)
        return reads, rights


def _values(params) -> list:
    if isinstance(params, dict):
        return list(params.values())
    if isinstance(params, (list, tuple)):
        out = []
        for p in params:
            out.extend(_values(p) if isinstance(p, (list, tuple, dict)) else [p])
        return out
    return [params]


@pytest.fixture
def site(db):
    ids = build(db)
    app = create_app(TEST_CONFIG, db=db)
    return app, db, ids


def signed_in(app, username: str):
    client = app.test_client()
    assert client.post("/login", data={"username": username, "password": PASSWORD}).status_code == 302
    client.get("/")  # warm the schema and rights caches: the page is measured, not a cold start
    return client


def tally(db, client, url: str) -> Tally:
    found = Tally()

    def on_execute(conn, cursor, statement, parameters, context, executemany):
        found.statements.append((statement, parameters))
        if statement.strip().upper() not in ("BEGIN", "BEGIN IMMEDIATE", "COMMIT", "ROLLBACK") and found.transactions:
            found.transactions[-1].append(statement)

    def on_begin(conn):
        found.begins += 1
        found.transactions.append([])

    event.listen(db.engine, "before_cursor_execute", on_execute)
    event.listen(db.engine, "begin", on_begin)
    try:
        response = client.get(url)
    finally:
        event.remove(db.engine, "before_cursor_execute", on_execute)
        event.remove(db.engine, "begin", on_begin)
    assert response.status_code == 200, response.get_data(as_text=True)[-2000:]
    return found


def _report(name: str, t: Tally) -> None:
    print(f"\n{name}: {t.begins} transactions ({len(t.page_transactions())} the page's), "
          f"{len(t.statements)} statements, "
          f"{len(t.matching(SCHEMA_VERSION))} schema version + {len(t.matching(RIGHTS_VERSION))} rights version checks")


def test_a_deal_card_is_one_session_and_reads_its_record_once(site):
    app, db, ids = site
    client = signed_in(app, "sam")
    deal = db.schema().object("deal")
    t = tally(db, client, f"/o/deal/{ids['deal']}")
    _report("Deal card", t)
    assert len(t.matching(SCHEMA_VERSION)) <= 1, t.matching(SCHEMA_VERSION)
    assert len(t.matching(RIGHTS_VERSION)) <= 1, t.matching(RIGHTS_VERSION)
    reads, rights_checks = t.record_reads(f"obj_{deal.id}", ids["deal"])
    assert len(reads) == 1, reads
    assert len(rights_checks) <= 1, rights_checks
    assert len(t.page_transactions()) == 1, t.page_transactions()
    assert t.begins <= 2, f"{t.begins} transactions"  # the page's and the sign-in's (user and groups)


def test_an_organisation_card_and_a_list_page_are_one_session_each(site):
    app, db, ids = site
    client = signed_in(app, "sam")
    organisation = db.schema().object("organisation")
    t = tally(db, client, f"/o/organisation/{ids['acme']}")
    _report("Organisation card", t)
    assert len(t.page_transactions()) == 1, t.page_transactions()
    assert len(t.matching(SCHEMA_VERSION)) <= 1 and len(t.matching(RIGHTS_VERSION)) <= 1
    reads, _rights = t.record_reads(f"obj_{organisation.id}", ids["acme"])
    assert len(reads) == 1, reads

    t = tally(db, client, "/o/deal")
    _report("Deal list", t)
    assert len(t.page_transactions()) == 1, t.page_transactions()
    assert len(t.matching(SCHEMA_VERSION)) <= 1 and len(t.matching(RIGHTS_VERSION)) <= 1

    for url in ("/", "/o/deal/board", "/o/deal/calendar", "/search?q=ACME", "/o/deal/trash",
                "/o/deal/links/organisation?q=AC"):
        t = tally(db, client, url)
        _report(url, t)
        assert len(t.page_transactions()) == 1, (url, t.page_transactions())
        assert len(t.matching(SCHEMA_VERSION)) <= 1 and len(t.matching(RIGHTS_VERSION)) <= 1, url
