"""Small builders shared by the schema-engine tests."""
from __future__ import annotations

from db_templates import from_template

from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.schema_service import SchemaService
from cardbase.schema_engine.store import RecordStore


def crm(db):
    """Organisation <- Contact, Organisation <- Deal; returns (schema service, store).
    Copied from a per-session template database (tests/db_templates.py)."""
    from_template(db, "crm", _build_crm)
    return SchemaService(db), RecordStore(db)


def _build_crm(db) -> None:
    svc = SchemaService(db)
    svc.create_object(SYSTEM, {
        "name": "organisation", "label": "Organisation", "label_plural": "Organisations",
        "code_pattern": "ORG-{00000}", "fields": [
            {"name": "name", "label": "Name", "type": "string", "required": True},
            {"name": "city", "label": "City", "type": "string"},
            {"name": "vat", "label": "VAT id", "type": "string", "unique": True},
        ]})
    svc.create_object(SYSTEM, {
        "name": "contact", "label": "Contact person", "label_plural": "Contact persons",
        "fields": [
            {"name": "name", "label": "Name", "type": "string", "required": True},
            {"name": "organisation", "label": "Organisation", "type": "link",
             "options": {"target": "organisation", "on_delete": "cascade"}},
        ]})
    svc.create_object(SYSTEM, {
        "name": "deal", "label": "Deal", "label_plural": "Deals", "fields": [
            {"name": "title", "label": "Title", "type": "string", "required": True},
            {"name": "organisation", "label": "Organisation", "type": "link",
             "options": {"target": "organisation", "on_delete": "restrict"}},
            {"name": "amount", "label": "Amount", "type": "decimal", "options": {"precision": 12, "scale": 2}},
        ]})
