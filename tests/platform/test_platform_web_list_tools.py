"""Issue 14, point 9: the list lines numbers up by value type -- formulas and rollups over
numbers right-aligned like integers, decimals and money, codes left like text -- and
leads to its object's trash."""
from __future__ import annotations

import lxml.html
import pytest

from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.schema_service import SchemaService

from test_platform_web_lists import client_for, list_app, page_of


@pytest.fixture
def app(db):
    app = list_app(db)
    SchemaService(db).add_field(SYSTEM, "organisation", {
        "name": "revenue", "label": "Revenue", "type": "rollup",
        "options": {"child": "deal", "link": "organisation", "field": "amount", "aggregate": "sum"}})
    SchemaService(db).add_field(SYSTEM, "deal", {"name": "code_text", "label": "Label", "type": "formula",
                                                 "options": {"formula": "CONCAT([Title], \"!\")"}})
    return app


def alignment(body: str) -> dict[str, tuple[bool, bool]]:
    """column path -> (header right-aligned, every cell right-aligned)."""
    doc = lxml.html.fromstring(body)
    heads = doc.xpath('//table[@id="cb-list-table"]/thead//th')
    rows = doc.xpath('//table[@id="cb-list-table"]/tbody/tr')
    out = {}
    for i, th in enumerate(heads):
        cells = [r.xpath("./td")[i] for r in rows]
        out[th.get("data-path")] = ("num" in (th.get("class") or "").split(),
                                    all("num" in (c.get("class") or "").split() for c in cells))
    return out


def test_numbers_are_right_aligned_by_value_type_and_codes_left(app):
    sam = client_for(app, "sam")
    body = page_of(sam, "/o/deal?cols=code,title,amount,quantity,probability,total,code_text,close_date")
    got = alignment(body)
    assert got["amount"] == got["quantity"] == got["probability"] == (True, True)
    assert got["total"] == (True, True)  # a formula giving a number
    assert got["code"] == got["title"] == got["code_text"] == got["close_date"] == (False, False)
    orgs = alignment(page_of(sam, "/o/organisation?cols=code,name,revenue"))
    assert orgs["revenue"] == (True, True) and orgs["code"] == (False, False)  # a rollup is a number


def test_the_trash_is_reachable_from_the_list(app):
    for username in ("sam", "root"):
        client = client_for(app, username)
        doc = lxml.html.fromstring(page_of(client, "/o/deal"))
        link = doc.xpath('//a[@id="cb-trash-link"]')
        assert len(link) == 1 and link[0].get("href") == "/o/deal/trash"
        assert page_of(client, link[0].get("href"))  # and it opens
