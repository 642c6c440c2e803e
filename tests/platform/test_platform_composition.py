"""The composition root: channels never construct engine services themselves.

Only ``platform/composition.py`` (``build_engine``, for the app factory's
``context.install_engine``, the CLI, the demo and scripts) may construct ``RecordStore``,
``SchemaService`` or ``AccessPolicy``; nobody else under
``cardbase/platform`` or ``cardbase/designer_ui`` may, nor ask ``<store>.policy.access(...)``
or ``rights.can_configure(...)`` for rights of their own (the engine session answers
rights questions). The
check walks each module's syntax tree, so comments, docstrings and strings that name
these classes do not count, while aliases (``import RecordStore as RS``) and
attribute access (``records.RecordStore(...)``) do.
"""
from __future__ import annotations

import ast
from pathlib import Path

import cardbase

PACKAGE = Path(cardbase.__file__).resolve().parent
CHECKED = ("platform", "designer_ui")
ROOTS = {"platform/composition.py"}  # the composition root
SERVICES = {"RecordStore", "SchemaService", "AccessPolicy"}
# engine helpers that answer a rights question in a transaction and policy of their own:
# a channel asks its engine session instead (``s.can(obj, "configure")``)
OWN_RIGHTS = {"can_configure"}


def offences(source: str, filename: str = "<module>") -> list[str]:
    """``"line: what"`` for every construction of an engine service and every
    ``.policy.access(...)`` call in the module's source."""
    tree = ast.parse(source, filename)
    aliases = set(SERVICES)
    rights = set(OWN_RIGHTS)
    for node in ast.walk(tree):  # from x import RecordStore as RS
        if isinstance(node, ast.ImportFrom):
            aliases |= {a.asname for a in node.names if a.name in SERVICES and a.asname}
            rights |= {a.asname for a in node.names if a.name in OWN_RIGHTS and a.asname}
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
        if isinstance(func, ast.Name) and name in aliases or isinstance(func, ast.Attribute) and name in SERVICES:
            found.append((node.lineno, f"constructs {name}(...)"))
        elif isinstance(func, ast.Name) and name in rights or isinstance(func, ast.Attribute) and name in OWN_RIGHTS:
            found.append((node.lineno, f"asks {name}(...) instead of the engine session"))
        elif (isinstance(func, ast.Attribute) and func.attr == "access" and isinstance(func.value, ast.Attribute)
              and func.value.attr == "policy"):
            found.append((node.lineno, "calls .policy.access(...)"))
    return [f"{line}: {what}" for line, what in sorted(found)]


def modules() -> list[Path]:
    return sorted(p for part in CHECKED for p in (PACKAGE / part).rglob("*.py"))


def test_the_check_sees_constructions_and_calls_not_words():
    source = '''
"""RecordStore(db) in a docstring is fine."""
# SchemaService(db) in a comment is fine
from cardbase.schema_engine.store.records import RecordStore as Store
from cardbase.schema_engine import schema_service
text = "AccessPolicy() in a string is fine"

def channel(db, store, conn, schema, actor):
    a = Store(db)
    b = schema_service.SchemaService(db)
    c = store.policy.access(conn, schema, actor)
    d = (None or AccessPolicy()).can
    e = admin.can_configure(db, actor)
    return store.session(actor)  # this is how a channel reads
'''
    assert [o.split(": ")[1] for o in offences(source)] == [
        "constructs Store(...)", "constructs SchemaService(...)", "calls .policy.access(...)",
        "constructs AccessPolicy(...)", "asks can_configure(...) instead of the engine session"]
    assert offences("from x import RecordStore\nRecordStore.session\nstore = get_store()\n") == []


def test_the_composition_root_is_where_the_services_are_built():
    for root in ROOTS:
        assert (PACKAGE / root).is_file(), root
    built = {root: offences((PACKAGE / root).read_text(encoding="utf-8")) for root in ROOTS}
    assert any(built.values()), "the composition root builds the store and the schema service"


def test_channels_never_construct_engine_services():
    """The platform (web, API, CLI, demo) and the designer get the store and the schema
    service from the composition root and ask the engine session about rights."""
    found = []
    for path in modules():
        relative = path.relative_to(PACKAGE).as_posix()
        if relative in ROOTS:
            continue
        found += [f"cardbase/{relative}:{o}" for o in offences(path.read_text(encoding="utf-8"), relative)]
    assert not found, "engine services built outside the composition root:\n" + "\n".join(found)
