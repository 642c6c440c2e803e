"""The demo CRM: a solution (organisations, contact persons, products, deals, orders with
lines, tasks, interactions) and deterministic sample records for it.

``cardbase demo`` and ``cardbase run`` use it so a fresh install shows a working CRM.
"""
from __future__ import annotations

import json
from importlib import resources
from typing import Any

from .data import DEFAULT_RECORDS, generate_records

SOLUTION_FILE = "demo_solution.json"


def demo_solution() -> dict[str, Any]:
    """The demo solution document (the packaged demo_solution.json)."""
    text = resources.files(__name__).joinpath(SOLUTION_FILE).read_text(encoding="utf-8")
    return json.loads(text)


def demo_object_names() -> list[str]:
    return [obj["name"] for obj in demo_solution()["objects"]]


__all__ = ["DEFAULT_RECORDS", "demo_object_names", "demo_solution", "generate_records"]
