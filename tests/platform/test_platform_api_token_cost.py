"""The per-request cost of an authenticated API GET: the bearer token is checked in the
request's read transaction and the view's engine session goes on in it (one transaction,
three statements for an admin's GET of one record), while revocation, expiry,
deactivation and a password change still end the token on the very next request, and
last use is written at most once per TOUCH_EVERY."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from cardbase.platform import users
from cardbase.schema_engine.accounts import tokens
from cardbase.schema_engine.accounts import users as accounts
from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.meta_models import utcnow
from cardbase.schema_engine.store.records import RecordStore
from cardbase.schema_engine.token_models import ApiToken

from api_testlib import api_for, crm_app, error_of, seed_orgs
from sql_recorder import recorded

_tokens = ApiToken.__table__


@pytest.fixture
def app(db):
    return crm_app(db)


@pytest.fixture
def org(db, app):
    return seed_orgs(db, 1)[0]


class Transactions:
    """Counts the transactions begun on an engine (SQLite's BEGIN goes to the driver
    unseen by statement listeners; the begin event sees every engine)."""

    def __init__(self, engine: sa.Engine):
        self.engine, self.count = engine, 0

    def _begin(self, _conn) -> None:
        self.count += 1

    def __enter__(self) -> "Transactions":
        sa.event.listen(self.engine, "begin", self._begin)
        return self

    def __exit__(self, *_exc) -> None:
        sa.event.remove(self.engine, "begin", self._begin)


def _last_used(db, token_id: int):
    with db.read() as conn:
        return conn.execute(sa.select(_tokens.c.last_used_at).where(_tokens.c.id == token_id)).scalar_one()


def _token_id(db, secret: str) -> int:
    with db.read() as conn:
        return conn.execute(sa.select(_tokens.c.id).where(_tokens.c.token_hash == tokens.hash_token(secret))).scalar_one()


def test_a_get_is_one_transaction_of_three_statements(app, db, org):
    root = api_for(app, db, "root")
    url = f"/api/v1/records/organisation/{org}"
    assert root.get(url).status_code == 200  # warm: snapshot cached, last use written
    with Transactions(db.engine) as began, recorded(db.engine) as seen:
        response = root.get(url)
    assert response.status_code == 200 and response.get_json()["name"] == "Org 0"
    texts = [" ".join(s.split()).lower() for s in seen]
    assert len(texts) == 3, texts
    assert "from cb_api_token" in texts[0]  # the token, its user and groups: one statement
    assert "schema_version" in texts[1]
    assert "from obj_" in texts[2]
    assert began.count == 1  # the token check and the read share it (it was 2)


def test_a_get_writes_last_use_once_per_interval(app, db, org):
    root = api_for(app, db, "root")
    token_id = _token_id(db, root.token)
    url = f"/api/v1/records/organisation/{org}"
    assert _last_used(db, token_id) is None
    first = root.get(url)
    assert first.status_code == 200 and first.get_json()["id"] == org  # the touch path still answers
    written = _last_used(db, token_id)
    assert written is not None and written > utcnow() - timedelta(minutes=1)
    with recorded(db.engine) as seen:
        assert root.get(url).status_code == 200
    assert not [s for s in seen if s.lstrip().upper().startswith("UPDATE")], seen
    assert _last_used(db, token_id) == written
    # once the interval has passed, the next request writes it again
    with db.write() as conn:
        conn.execute(sa.update(_tokens).where(_tokens.c.id == token_id)
                     .values(last_used_at=utcnow() - tokens.TOUCH_EVERY - timedelta(seconds=1)))
    assert root.get(url).status_code == 200
    assert _last_used(db, token_id) > utcnow() - timedelta(minutes=1)


def test_revocation_ends_a_token_on_the_next_get(app, db, org):
    root = api_for(app, db, "root")
    url = f"/api/v1/records/organisation/{org}"
    assert root.get(url).status_code == 200
    tokens.revoke_token(db, SYSTEM, _token_id(db, root.token))
    refused = root.get(url)
    assert refused.status_code == 401 and error_of(refused)["code"] == "invalid_token"


def test_expiry_ends_a_token_on_the_next_get(app, db, org):
    root = api_for(app, db, "root")
    url = f"/api/v1/records/organisation/{org}"
    assert root.get(url).status_code == 200
    with db.write() as conn:
        conn.execute(sa.update(_tokens).where(_tokens.c.id == _token_id(db, root.token))
                     .values(expires_at=utcnow() - timedelta(seconds=1)))
    refused = root.get(url)
    assert refused.status_code == 401 and error_of(refused)["code"] == "token_expired"


def test_deactivation_and_a_new_password_end_tokens_on_the_next_get(app, db, org):
    root = api_for(app, db, "root")
    url = f"/api/v1/records/organisation/{org}"
    assert root.get(url).status_code == 200
    users.set_password(db, "root", "another-long-password-9")
    refused = root.get(url)
    assert refused.status_code == 401 and "password changed" in error_of(refused)["message"]
    users.create_user(db, "chief", "violet-harbour-93", is_admin=True)
    chief = api_for(app, db, "chief")
    assert chief.get(url).status_code == 200
    accounts.deactivate_user(db, SYSTEM, users.find_user(db, "chief").id)
    refused = chief.get(url)
    assert refused.status_code == 401 and "deactivated" in error_of(refused)["message"]


def test_a_write_after_the_token_check_still_commits(app, db, org):
    root = api_for(app, db, "root")
    made = root.post("/api/v1/records/organisation", {"name": "Written"})
    assert made.status_code == 201, made.get_json()
    found = RecordStore(db).get(SYSTEM, "organisation", made.get_json()["id"])
    assert found["name"] == "Written"
