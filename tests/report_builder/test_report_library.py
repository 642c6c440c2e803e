"""Saved reports: personal or shared with groups, owner or admin changes them, stored by
field id (renames keep them working), a used field cannot be removed, a field hidden since
is named when the report runs."""
from __future__ import annotations

from decimal import Decimal as D

import pytest

from cardbase.report_builder import library
from cardbase.report_builder.runner import run_report
from cardbase.schema_engine import rights
from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.errors import CardbaseError, Forbidden, NotFound, ValidationError
from cardbase.schema_engine.schema_service import SchemaService

from report_fixture import sales_crm

DOC = {"name": "Pipeline", "definition": {
    "object": "deal", "rows": [{"field": "stage"}], "columns": [{"field": "organisation.industry"}],
    "measures": [{"op": "sum", "field": "amount"}], "filter": {"field": "probability", "op": "gt", "value": 0},
    "live_filters": ["close_date", "owner"]}}


@pytest.fixture
def crm(db):
    return sales_crm(db)


def as_(crm, name):
    return crm.store.session(crm.actor(name) if name != "system" else SYSTEM, write=True)


def test_personal_then_shared_and_only_the_owner_changes_it(crm):
    with as_(crm, "ann") as s:
        saved = library.save_report(s, DOC)
    assert saved["definition"]["rows"] == [{"field": "stage"}] and saved["shared_with"] == []
    with as_(crm, "bob") as s:
        assert library.list_reports(s) == []
        with pytest.raises(NotFound):
            library.get_report(s, saved["id"])
    with as_(crm, "ann") as s:
        library.save_report(s, {**DOC, "shared_with": ["Sales"]}, saved["id"])
    with as_(crm, "bob") as s:
        [seen] = library.list_reports(s)
        assert seen["name"] == "Pipeline" and seen["editable"] is False and seen["version"] == 2
        with pytest.raises(Forbidden):
            library.save_report(s, {**DOC, "name": "Mine now"}, saved["id"])
        with pytest.raises(Forbidden):
            library.delete_report(s, saved["id"])
        result = run_report(s, library.load_definition(s, seen))
        assert result.total == [{"EUR": D("1450.50"), "USD": D("225.25")}]  # F (probability 0) is filtered out
    with as_(crm, "root") as s:
        assert [r["name"] for r in library.list_reports(s)] == ["Pipeline"]
        library.delete_report(s, saved["id"])
        assert library.list_reports(s) == []


def test_bad_documents_are_refused_naming_the_key(crm):
    with as_(crm, "ann") as s:
        for doc, key in (({"definition": DOC["definition"]}, "name"),
                         ({**DOC, "definition": {"object": "deal", "rows": [{"field": "nope"}]}}, "definition.rows.0.field"),
                         ({**DOC, "shared_with": ["Nobody"]}, "shared_with.0"),
                         ({**DOC, "colour": 1}, "colour"),
                         ({**DOC, "definition": {**DOC["definition"], "live_filters": ["nope"]}},
                          "definition.live_filters.0")):
            with pytest.raises(ValidationError) as info:
                library.save_report(s, doc)
            assert key in info.value.errors, (doc, info.value.errors)


def test_renames_keep_a_report_and_a_used_field_cannot_be_removed(crm, db):
    with as_(crm, "ann") as s:
        saved = library.save_report(s, {**DOC, "shared_with": ["Sales"]})
    service = SchemaService(db)
    service.update_field(SYSTEM, "deal", "stage", {"name": "phase"})
    with as_(crm, "ann") as s:
        report = library.get_report(s, saved["id"])
        assert report["definition"]["rows"] == [{"field": "phase"}]
        assert run_report(s, library.load_definition(s, report)).row_keys[0] == ("lead",)
    with pytest.raises(CardbaseError) as info:
        service.remove_field(SYSTEM, "deal", "probability")
    assert "report 'Pipeline' uses it" in str(getattr(info.value, "usages", "")) + info.value.message


def test_a_field_hidden_since_is_named_when_the_report_runs(crm, db):
    with as_(crm, "ann") as s:
        saved = library.save_report(s, {**DOC, "shared_with": ["Sales"]})
    rights.set_field_right(db, SYSTEM, "Sales", "organisation", "industry", "hidden")
    with as_(crm, "bob") as s:
        report = library.get_report(s, saved["id"])
        with pytest.raises(ValidationError) as info:
            run_report(s, library.load_definition(s, report))
    assert info.value.errors == {"columns.0.field": ["'organisation.industry': object 'organisation' has no field "
                                                     "'industry'"]}
