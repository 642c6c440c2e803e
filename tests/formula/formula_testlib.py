"""Shared fixtures of the formula tests (a plain module: the tests tree has no conftest)."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from cardbase.formula import DictResolver, FormulaError, Ref, compile_formula

D = Decimal
NOW = datetime(2024, 5, 15, 13, 45, 30)  # a Wednesday

# An order line, its order, the order's organisation, and the order's lines (a child list).
FIELDS = {
    "Unit price": Ref("1", "money"), "unit_price": Ref("1", "money"),
    "Quantity": Ref("2", "integer"), "qty": Ref("2", "integer"),
    "Cost": Ref("3", "decimal"),
    "Product": Ref("4", "string"), "product": Ref("4", "string"),
    "Delivered": Ref("5", "boolean"),
    "Ship date": Ref("6", "date"),
    "Created at": Ref("7", "datetime"),
    "Order": Ref("8", "link"),
    ("Order", "Order date"): Ref("8.20", "date"),
    ("Order", "Organisation", "City"): Ref("8.21.30", "text"),
    ("Order", "Lines", "Cost"): Ref("8.22.3", "number", many=True),
    ("Order lines", "Cost"): Ref("40.3", "number", many=True),
    ("Order lines", "Product"): Ref("40.4", "text", many=True),
    ("Order lines", "Ship date"): Ref("40.6", "date", many=True),
    ("Order lines", "Delivered"): Ref("40.5", "boolean", many=True),
    "Notes": Ref("9", "text"),
    "Name]x": Ref("10", "text"),
}
RESOLVER = DictResolver(FIELDS)

VALUES = {
    "1": D("2.50"), "2": 4, "3": D("10.00"), "4": "Widget", "5": True,
    "6": date(2024, 1, 31), "7": datetime(2024, 5, 14, 1, 45, 30),
    "8.20": date(2024, 1, 15), "8.21.30": "Berlin", "8.22.3": [D("1.10"), D("2.20")],
    "40.3": [D("0.10"), D("0.20"), None, D("1.00")],
    "40.4": ["Widget", "", "Gadget", None],
    "40.6": [date(2024, 3, 1), None, date(2024, 1, 2)],
    "40.5": [True, False, None],
    "9": None,
}


def compile_(text: str):
    return compile_formula(text, RESOLVER)


def ev(text: str, values=None, now=NOW):
    return compile_(text).evaluate(VALUES if values is None else values, now=now)


def err(text: str, resolver=RESOLVER) -> FormulaError:
    with pytest.raises(FormulaError) as info:
        compile_formula(text, resolver)
    return info.value
