"""SQL's three-valued logic in Python: True, False and None (unknown).

The Python twin of the filter compiler (``query/match.py``) must agree with the database
on every record, and SQL's comparisons with NULL are *unknown*, which ``NOT`` keeps
unknown: ``NOT (amount > 5)`` does not match a record without an amount. These helpers
combine such values exactly as SQL's AND, OR and NOT do.
"""
from __future__ import annotations

from typing import Iterable, Optional

Truth = Optional[bool]


def t_not(value: Truth) -> Truth:
    return None if value is None else not value


def t_and(values: Iterable[Truth]) -> Truth:
    result: Truth = True
    for value in values:
        if value is False:
            return False
        if value is None:
            result = None
    return result


def t_or(values: Iterable[Truth]) -> Truth:
    result: Truth = False
    for value in values:
        if value is True:
            return True
        if value is None:
            result = None
    return result


def t_compare(left, op: str, right) -> Truth:
    """``left <op> right`` where either side may be NULL (None)."""
    if left is None or right is None:
        return None
    if op == "eq":
        return left == right
    if op == "ne":
        return left != right
    if op == "lt":
        return left < right
    if op == "le":
        return left <= right
    if op == "gt":
        return left > right
    if op == "ge":
        return left >= right
    raise ValueError(f"unknown comparison {op!r}")


def t_in(value, items: list) -> Truth:
    """SQL ``value IN (items)``: an empty list is false, NULLs make a miss unknown."""
    if not items:
        return False
    return t_or(t_compare(value, "eq", item) for item in items)
