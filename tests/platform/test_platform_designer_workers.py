"""Point 7 of the configurator: a change saved in the designer takes effect at once for
everyone, with several web workers. A real ``cardbase serve --workers 2`` (gunicorn, two
processes) runs on the test database; a power user signs in through the login form and
changes the configuration through one worker -- a new field, a card layout, the table
design, a field rule, an object renamed -- and every change is seen right away by
requests that the OTHER worker process serves (and by the first). Each request is sent to
a named worker: WorkerClient finds the process holding the server end of its connection
in /proc, so the test knows, not hopes, that both processes answered."""
from __future__ import annotations

import functools
import json
import re

import pytest
from api_testlib import PASSWORD, build_crm, make_users, token_for
from designer2_testlib import hidden
from designer_testlib import WorkerClient, child_pids, served

from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.store.records import RecordStore

pytestmark = pytest.mark.slow

CARD = {"tabs": [{"label": "", "sections": [
    {"label": "Money matters", "columns": 1, "help": "", "items": [{"field": "title"}, {"field": "amount"}]}]}]}
RULE = {"field": "stage", "op": "eq", "value": "won"}


def _designer_form(client: WorkerClient, worker: int, url: str, names: tuple[str, ...]) -> dict[str, str]:
    """The hidden inputs (CSRF token and the stale-form state) of a designer page."""
    page = client.get(worker, url)
    assert page.status == 200, (url, page.status, page.text[:1000])
    return {name: hidden(page.text, name) for name in ("csrf_token", *names)}


def _saved(reply) -> None:
    """A designer form was accepted (it redirects); else show the page's text."""
    assert reply.status == 302, (reply.status, re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", reply.text))[:2000])


def _created(reply) -> None:
    """The API created the record."""
    assert reply.status == 201, reply.text



def test_changes_saved_through_one_worker_are_seen_at_once_by_both(db, db_url, tmp_path):
    build_crm(db)
    make_users(db)
    org = RecordStore(db).create(SYSTEM, "organisation", {"name": "Acme", "city": "Berlin"})
    deal = RecordStore(db).create(SYSTEM, "deal", {"title": "Big one", "amount": "100", "organisation": org["id"]})
    with served(db_url, tmp_path, workers=2) as server:
        client = WorkerClient(server)
        try:
            writer, other = server.workers
            client.login(other, "root", PASSWORD)  # the session cookie is good on every worker
            # (issued after the login, which may rehash the password and so end older tokens)
            token = {"Authorization": f"Bearer {token_for(db, 'root')}"}
            both = (writer, other)

            def everywhere(check) -> None:
                """``check(reply_of)`` with requests served by each worker in turn."""
                for worker in both:
                    check(functools.partial(client.request, worker))

            # Each worker has the current schema cached before the change (it answered with it).
            def no_rating(call):
                assert 'data-field="rating"' not in call("GET", "/designer/objects/organisation").text
                fields = call("GET", "/api/v1/objects/organisation", headers=token).json()["fields"]
                assert "rating" not in [f["name"] for f in fields]
            everywhere(no_rating)

            # 1. a new field
            form = _designer_form(client, writer, "/designer/objects/organisation/new-field",
                                  ("schema_version", "fingerprint"))
            _saved(client.post(writer, "/designer/objects/organisation/new-field", form={
                **form, "label": "Rating", "name": "", "type": "integer", "default": "", "help_text": ""}))

            def has_rating(call):
                assert 'data-field="rating"' in call("GET", "/designer/objects/organisation").text
                created = call("POST", "/api/v1/records/organisation", body={"name": "Rated", "rating": 4},
                               headers=token)
                assert created.status == 201 and created.json()["rating"] == 4, created.text
            everywhere(has_rating)

            # 2. a card layout, made the default card
            everywhere(lambda call: "Money matters" not in call("GET", f"/o/deal/{deal['id']}").text)
            form = _designer_form(client, writer, "/designer/objects/deal/cards/new", ("state",))
            _saved(client.post(writer, "/designer/objects/deal/cards/new", form={
                **form, "name": "Full", "is_default": "1", "layout": json.dumps(CARD)}))

            def shows_card(call):
                html = call("GET", f"/o/deal/{deal['id']}").text
                assert "Money matters" in html and 'data-field="amount"' in html
                assert 'data-field="stage"' not in html  # not on the designed card
            everywhere(shows_card)

            # 3. the table design: a linked column with its width
            everywhere(lambda call: 'data-path="organisation.city"' not in call("GET", "/o/deal").text)
            form = _designer_form(client, writer, "/designer/objects/deal/table", ("state",))
            _saved(client.post(writer, "/designer/objects/deal/table", form={
                **form, "filter": "", "page_size": "25", "definition": json.dumps({
                    "columns": [{"field": "title"}, {"field": "organisation.city", "width": 180}],
                    "sort": [{"field": "title", "desc": False}]})}))

            def shows_table(call):
                html = call("GET", "/o/deal").text
                assert re.search(r'data-path="organisation.city" data-width="180"', html), html[:3000]
                assert "Berlin" in html
            everywhere(shows_table)

            # 4. a field rule: the secret note is required when the deal is won
            everywhere(lambda call: _created(call("POST", "/api/v1/records/deal", headers=token,
                                                  body={"title": "Won early", "stage": "won"})))
            form = _designer_form(client, writer, "/designer/objects/deal/fields/secret_note/rules", ("state",))
            _saved(client.post(writer, "/designer/objects/deal/fields/secret_note/rules", form={
                **form, "visible_when": "", "readonly_when": "", "required_when": json.dumps(RULE)}))

            def enforces_rule(call):
                refused = call("POST", "/api/v1/records/deal", body={"title": "Won late", "stage": "won"},
                               headers=token)
                assert refused.status == 422, refused.text
                assert list(refused.json()["error"]["fields"]) == ["secret_note"]
            everywhere(enforces_rule)

            # 5. the object renamed
            everywhere(lambda call: "Companies" not in call("GET", "/designer/").text)
            form = _designer_form(client, writer, "/designer/objects/organisation", ("schema_version", "fingerprint"))
            _saved(client.post(writer, "/designer/objects/organisation", form={
                **form, "label": "Company", "label_plural": "Companies", "name": "organisation", "description": "",
                "position": "1", "label_de": "", "label_plural_de": ""}))

            def renamed(call):
                assert "Companies" in call("GET", "/designer/").text
                assert call("GET", "/api/v1/objects/organisation", headers=token).json()["label"] == "Company"
            everywhere(renamed)
            # no restart: the same two worker processes served everything
            assert server.proc.poll() is None and child_pids(server.proc.pid) == server.workers
        finally:
            client.close()

