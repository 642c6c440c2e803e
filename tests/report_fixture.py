"""A small sales CRM for the report tests, with figures small enough to add up by hand.

Organisations Acme (IT) and Beta (Retail); users root (admin), ann and bob in "Sales";
seven live deals and one in the trash:

    title stage     amount       close date  prob  org   owner
    A     lead      100.00 EUR   2026-01-15  10    Acme  ann
    B     lead       50.50 EUR   2026-02-20  20    Beta  bob
    C     won      1000.00 EUR   2026-04-01  100   Acme  ann
    D     won       200.00 USD   2026-05-05  100   Beta  bob
    E     proposal  300.00 EUR   2026-04-30  50    Acme  bob
    F     lost      --           2026-07-01  0     --    ann
    G     proposal   25.25 USD   --          40    Beta  ann
    (H    won       999.00 EUR   in the trash)
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from db_templates import from_template

from cardbase.platform import users
from cardbase.platform.context import actor_for
from cardbase.schema_engine import rights
from cardbase.schema_engine.actor import SYSTEM, Actor
from cardbase.schema_engine.schema_service import SchemaService
from cardbase.schema_engine.store.records import RecordStore

PASSWORD = "s3cret-password"
SCHEMA = [
    {"name": "organisation", "label": "Organisation", "label_plural": "Organisations", "fields": [
        {"name": "name", "label": "Name", "type": "string", "required": True},
        {"name": "industry", "label": "Industry", "type": "choice",
         "options": {"choices": [{"value": "it", "label": "IT"}, {"value": "retail", "label": "Retail"}]}},
    ]},
    {"name": "deal", "label": "Deal", "label_plural": "Deals", "fields": [
        {"name": "title", "label": "Title", "type": "string", "required": True},
        {"name": "amount", "label": "Amount", "type": "money",
         "options": {"currency": "EUR", "currency_mode": "per_record"}},
        {"name": "stage", "label": "Stage", "type": "choice", "options": {"choices": [
            {"value": "lead", "label": "Lead"}, {"value": "proposal", "label": "Proposal"},
            {"value": "won", "label": "Won"}, {"value": "lost", "label": "Lost"}]}},
        {"name": "close_date", "label": "Close date", "type": "date"},
        {"name": "probability", "label": "Probability", "type": "integer"},
        {"name": "secret_note", "label": "Secret note", "type": "text"},
        {"name": "organisation", "label": "Organisation", "type": "link",
         "options": {"target": "organisation", "on_delete": "restrict"}},
    ]},
]
DEALS = [
    ("A", "lead", "100.00", "EUR", "2026-01-15", 10, "Acme", "ann"),
    ("B", "lead", "50.50", "EUR", "2026-02-20", 20, "Beta", "bob"),
    ("C", "won", "1000.00", "EUR", "2026-04-01", 100, "Acme", "ann"),
    ("D", "won", "200.00", "USD", "2026-05-05", 100, "Beta", "bob"),
    ("E", "proposal", "300.00", "EUR", "2026-04-30", 50, "Acme", "bob"),
    ("F", "lost", None, None, "2026-07-01", 0, None, "ann"),
    ("G", "proposal", "25.25", "USD", None, 40, "Beta", "ann"),
]


@dataclass
class SalesCrm:
    db: Any
    store: RecordStore

    def actor(self, name: str) -> Actor:
        return actor_for(users.find_user(self.db, name), self.db)

    def ids(self) -> dict[str, int]:
        with self.store.session(SYSTEM) as s:
            return {r["title"]: r["id"] for r in s.list("deal", _all()).data}


def _all():
    from cardbase.schema_engine.query.model import ListQuery
    return ListQuery(limit=100, fields=["title"])


def build(db) -> None:
    service = SchemaService(db)
    for spec in SCHEMA:
        service.create_object(SYSTEM, spec)
    users.create_user(db, "root", PASSWORD, is_admin=True)
    for name in ("ann", "bob"):
        users.create_user(db, name, PASSWORD, display_name=name.title())
    users.create_group(db, SYSTEM, "Sales")
    users.add_member(db, SYSTEM, "ann", "Sales")
    users.add_member(db, SYSTEM, "bob", "Sales")
    rights.set_object_rights(db, SYSTEM, "Sales", "deal", ["read", "create", "edit", "report", "export"])
    rights.set_object_rights(db, SYSTEM, "Sales", "organisation", ["read", "report"])
    store = RecordStore(db)
    orgs = dict(zip(("Acme", "Beta"), store.bulk_create(SYSTEM, "organisation", [
        {"name": "Acme", "industry": "it"}, {"name": "Beta", "industry": "retail"}])))
    owners = {name: users.find_user(db, name).id for name in ("ann", "bob")}
    with store.session(SYSTEM, write=True) as s:
        for title, stage, amount, currency, close, prob, org, owner in DEALS:
            values: dict[str, Any] = {"title": title, "stage": stage, "close_date": close, "probability": prob,
                                      "organisation": orgs.get(org) if org else None}
            if amount is not None:
                values["amount"] = {"amount": amount, "currency": currency}
            rid = s.create("deal", values)["id"]
            s.set_owner("deal", rid, owners[owner])
        gone = s.create("deal", {"title": "H", "stage": "won", "amount": "999", "close_date": "2026-04-02"})
        s.delete("deal", gone["id"])


def sales_crm(db) -> SalesCrm:
    from_template(db, "reports_sales_crm", build)
    return SalesCrm(db, RecordStore(db))


@pytest.fixture(name="crm")
def crm_fixture(db) -> SalesCrm:
    """The sales CRM as the ``crm`` fixture (import ``crm_fixture`` into a test module)."""
    return sales_crm(db)


@pytest.fixture(name="app")
def app_fixture(db, crm):
    """The platform app over the sales CRM as the ``app`` fixture (import ``app_fixture``)."""
    from api_testlib import TEST_CONFIG  # tests/platform is on the path only for the platform tests

    from cardbase.platform.app import create_app
    return create_app(dict(TEST_CONFIG), db=db)
