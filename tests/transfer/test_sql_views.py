"""`cardbase sql-views`: one view per object named after its API name, columns named after
the fields (links as id plus display text), kept current through schema changes, on both
engines; a field dropped under an enabled view does not break the change."""
from __future__ import annotations

import sqlalchemy as sa

from cardbase.schema_engine.actor import SYSTEM
from cardbase.transfer import sql_views
from transfer_fixture import world


def test_views_are_readable_and_follow_schema_changes(db):
    svc, store, who = world(db)
    with store.session(who, write=True) as s:
        acme = s.create("organisation", {"name": "ACME", "city": "Berlin"})
        s.create("person", {"name": "Ann", "email": "ann@example.org", "score": "2.5",
                            "budget": {"amount": "10", "currency": "EUR"}, "organisation": acme["id"]})
        gone = s.create("person", {"name": "Trashed"})
        s.delete("person", gone["id"])
    assert sql_views.enable(db) == ["organisation", "person"]
    with db.read() as conn:  # the example query of docs/transfer.md
        rows = conn.execute(sa.text(
            "SELECT name, email, score, budget, budget_currency, organisation, organisation_display "
            "FROM person ORDER BY name")).all()
    assert [tuple(r[:2]) for r in rows] == [("Ann", "ann@example.org")]
    assert float(rows[0].score) == 2.5 and rows[0].budget_currency == "EUR"
    assert (rows[0].organisation, rows[0].organisation_display) == (acme["id"], "ACME")
    svc.add_field(SYSTEM, "person", {"name": "nickname", "label": "Nickname", "type": "string"})
    svc.remove_field(SYSTEM, "person", "email")  # the view reads it: dropped and made again around the DDL
    svc.update_object(SYSTEM, "organisation", {"name": "company"})  # renamed: its view follows the new name
    with db.read() as conn:
        cols = [c["name"] for c in sa.inspect(conn).get_columns("person")]
        assert "nickname" in cols and "email" not in cols
        assert {"company", "person"} <= set(sa.inspect(conn).get_view_names())
        assert "organisation" not in sa.inspect(conn).get_view_names()
        assert conn.execute(sa.text("SELECT organisation_display FROM person")).scalar() == "ACME"
    sql_views.disable(db)
    with db.read() as conn:
        assert not {"person", "company"} & set(sa.inspect(conn).get_view_names())
    svc.remove_field(SYSTEM, "person", "nickname")  # disabled: the hook does nothing
