"""An API call whose change fails in any step -- the last one, the hooks, included -- keeps
nothing: its answer is an error, and an error answer rolls the request's session back (API
changes run without savepoints: the call never goes on after a failed change)."""
from __future__ import annotations

import sqlalchemy as sa

from cardbase.schema_engine.errors import ValidationError
from cardbase.schema_engine.meta_models import ActionRow, HistoryEntry, OutboxEvent

from api_testlib import api_for, crm_app, error_of


def counts(db) -> dict[str, int]:
    with db.read() as conn:
        return {t.__tablename__: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
                for t in (HistoryEntry, OutboxEvent, ActionRow)}


def test_an_api_change_that_fails_in_its_last_step_keeps_nothing(db):
    app = crm_app(db)
    api = api_for(app, db, "root")
    made = api.post("/api/v1/records/organisation", {"name": "Kept"}).get_json()
    store = app.extensions["cardbase_store"]

    def refuse(conn, schema, obj, ids, action, who):
        raise ValidationError({"hook": "refused by a hook"})

    before = counts(db)
    store.hooks.register(refuse)
    try:
        created = api.post("/api/v1/records/organisation", {"name": "Lost"})
        changed = api.patch(f"/api/v1/records/organisation/{made['id']}", {"name": "Changed", "version": 1})
        bulk = api.post("/api/v1/records/organisation/bulk", {"records": [{"name": "Bulk"}]})
    finally:
        store.hooks.unregister(refuse)
    for response in (created, changed, bulk):
        assert response.status_code == 422 and "refused by a hook" in str(error_of(response)), response.get_json()
    names = [r["name"] for r in api.get("/api/v1/records/organisation").get_json()["data"]]
    assert names == ["Kept"] and counts(db) == before
