"""Issue 14, point 5: dynamic defaults (today, now, the current user), minimum and maximum
for numbers (Probability 0..100), and the configurator offering required, unique and
default only for the types they apply to. Both engines."""
from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from designer_testlib import client_for, designer_app, page

from cardbase.platform import users
from cardbase.platform.context import actor_for
from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.errors import SchemaError, ValidationError
from cardbase.schema_engine.query.model import ListQuery
from cardbase.schema_engine.schema_service import SchemaService
from cardbase.schema_engine.store.records import RecordStore

from api_testlib import api_for, error_of


@pytest.fixture
def app(db):
    app = designer_app(db)
    svc = SchemaService(db)
    svc.update_field(SYSTEM, "deal", "probability", {"options": {"minimum": 0, "maximum": "100"}})
    svc.add_field(SYSTEM, "deal", {"name": "opened", "label": "Opened", "type": "date", "default": "today"})
    svc.add_field(SYSTEM, "deal", {"name": "logged", "label": "Logged", "type": "datetime", "default": "now"})
    svc.add_field(SYSTEM, "deal", {"name": "assignee", "label": "Assignee", "type": "user", "default": "me"})
    svc.add_field(SYSTEM, "deal", {"name": "discount", "label": "Discount", "type": "decimal",
                                   "options": {"scale": 2, "minimum": "0", "maximum": "0.5"}})
    return app


def test_probability_stays_between_0_and_100_in_the_store_and_the_api(app, db):
    store = RecordStore(db)
    with pytest.raises(ValidationError) as err:
        store.create(SYSTEM, "deal", {"title": "x", "probability": 150, "discount": "0.75"})
    assert err.value.errors == {"probability": ["must be at most 100"], "discount": ["must be at most 0.50"]}
    with pytest.raises(ValidationError) as err:
        store.create(SYSTEM, "deal", {"title": "x", "probability": -1})
    assert err.value.errors == {"probability": ["must be at least 0"]}
    ok = store.create(SYSTEM, "deal", {"title": "x", "probability": 100, "discount": "0.5"})
    assert ok["probability"] == 100 and ok["discount"] == Decimal("0.50")
    response = api_for(app, db, "root").patch(f"/api/v1/records/deal/{ok['id']}",
                                              {"probability": 101, "version": ok["version"]})
    assert response.status_code == 422 and error_of(response)["fields"] == {"probability": ["must be at most 100"]}
    # a filter may still compare with any number
    assert store.list(SYSTEM, "deal", ListQuery(filter={"field": "probability", "op": "lt", "value": 150})).data


def test_a_minimum_above_the_maximum_or_a_default_outside_is_refused(app, db):
    svc = SchemaService(db)
    with pytest.raises(SchemaError) as err:
        svc.update_field(SYSTEM, "deal", "probability", {"options": {"minimum": 10, "maximum": 5}})
    assert err.value.errors == {"options.maximum": ["must not be less than the minimum (10)"]}
    with pytest.raises(SchemaError) as err:
        svc.add_field(SYSTEM, "deal", {"name": "seats", "label": "Seats", "type": "integer", "options": {"minimum": "1.5"}})
    assert err.value.errors == {"options.minimum": ["must be a whole number"]}
    with pytest.raises(SchemaError) as err:
        svc.update_field(SYSTEM, "deal", "probability", {"default": 120})
    assert err.value.errors == {"default": ["must be at most 100"]}


def test_today_now_and_me_are_filled_in_when_a_record_is_created(app, db):
    store = RecordStore(db)
    sam = actor_for(users.find_user(db, "sam"), db)
    before = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None) - dt.timedelta(seconds=1)
    mine = store.create(sam, "deal", {"title": "Mine"})
    theirs = store.create(actor_for(users.find_user(db, "root"), db), "deal", {"title": "Theirs"})
    assert mine["assignee"].id == users.find_user(db, "sam").id
    assert theirs["assignee"].id == users.find_user(db, "root").id
    assert mine["opened"] == dt.date.today() or abs((mine["opened"] - dt.date.today()).days) <= 1
    assert before <= mine["logged"] <= dt.datetime.now(dt.timezone.utc).replace(tzinfo=None) + dt.timedelta(seconds=1)
    explicit = store.create(sam, "deal", {"title": "Set", "assignee": None, "opened": "2026-01-02"})
    assert explicit["opened"] == dt.date(2026, 1, 2) and explicit["assignee"] is None  # typed values win
    field = db.schema().object("deal").field("opened")
    assert field.default == "today"  # stored as the word, resolved per record
    html = client_for(app, "sam").get("/o/deal/new").get_data(as_text=True)
    assert re.search(r'id="cb-f-opened"[^>]*value="[^"]+"', html)  # the new card shows today's date


def test_required_unique_and_default_are_offered_only_where_they_apply(app, db):
    html, _state = page(client_for(app, "root"), "/designer/objects/deal/new-field")
    offered = dict(zip(("required", "unique", "default"),
                       re.findall(r'class="cb-type-options cb-field-rule" data-types="([^"]*)"', html)))
    for rule in ("required", "unique", "default"):
        types = offered[rule].split()
        assert "string" in types
        assert not {"formula", "rollup", "lookup", "autonumber"} & set(types), rule
    assert "text" not in offered["unique"].split() and "link" not in offered["default"].split()
    with pytest.raises(SchemaError) as err:
        SchemaService(db).add_field(SYSTEM, "deal", {"name": "twice", "label": "Twice", "type": "formula",
                                                     "required": True, "options": {"formula": "[Quantity] * 2"}})
    assert "cannot be required" in err.value.errors["required"][0]
