"""`cardbase recompute` finishes recalculations a crash left behind."""
from __future__ import annotations

from decimal import Decimal

from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.db import Database
from cardbase.schema_engine.query.model import ListQuery
from cardbase.schema_engine.schema_service import SchemaService
from cardbase.schema_engine.store import RecordStore


def test_recompute_command_resumes_unfinished_jobs(cli, new_url):
    assert cli("init", env={"CARDBASE_ADMIN_PASSWORD": "chief-pass-2024"}).exit_code == 0
    assert "no unfinished recalculations" in cli("recompute").output
    db = Database(new_url)
    try:
        svc = SchemaService(db, recompute_batch=2, defer_recompute=True)
        svc.create_object(SYSTEM, {"name": "line", "label": "Line", "label_plural": "Lines", "fields": [
            {"name": "price", "label": "Price", "type": "decimal"},
            {"name": "quantity", "label": "Quantity", "type": "integer"},
            {"name": "cost", "label": "Cost", "type": "formula", "options": {"formula": "[Price] * [Quantity]"}}]})
        store = RecordStore(db)
        store.bulk_create(SYSTEM, "line", [{"price": "1.50", "quantity": q} for q in range(1, 6)])
        # a deferred job stands for one a crashed process left behind
        svc.update_field(SYSTEM, "line", "cost", {"options": {"formula": "[Price] * [Quantity] * 2"}})
        result = cli("recompute")
        assert result.exit_code == 0, result.output
        assert "1 recalculation job(s) finished" in result.output and "5/5 records - done" in result.output
        costs = [r["cost"] for r in store.list(SYSTEM, "line", ListQuery(sort="id")).data]
        assert costs == [Decimal("1.50") * q * 2 for q in range(1, 6)]
    finally:
        db.dispose()
