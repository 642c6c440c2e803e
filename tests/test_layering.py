"""The dependency direction of ../shared/DESIGN.md, checked on the source (issue 12, point 7).

Every module of ``cardbase`` is read with ``ast``; every import counts -- at module level and
inside functions (a cycle broken by a function-level import is still a cycle) -- except
those under ``if TYPE_CHECKING:``, which never run. Importing ``a.b.c`` also runs the
``__init__`` of ``a`` and ``a.b``, so those count as imported too (unless they are packages
of the importing module itself, which Python has already loaded).

A module belongs to the layer of the longest entry of ``PACKAGE_LAYERS`` / ``ENGINE_LAYERS``
that is it or one of its packages; it may import its own layer and the layers below, never
one above. A new module lands in its package's layer; a module in no layer fails the test.
Where a lower layer needs something from a higher one, the higher one passes it in (see
``field_types.computed.ReferenceSupport``, ``rights.derived.install_reads`` and the finders
of ``usage``) or the shared piece moves down (``snapshot.system_columns``,
``references``, ``rights_models``, ``system_tables``, ``computed.redefine``).

We use a small AST walk rather than import-linter: it needs no extra dependency, counts
function-level imports, skips TYPE_CHECKING blocks, maps single modules of a package to a
lower layer (``accounts.policy``, ``rights_models``) and names the rule that is broken.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "cardbase"

# Across the components, lowest first: a component imports only those below it or its own.
PACKAGE_LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("formula: the formula language, pure Python", ("cardbase", "cardbase.formula")),
    ("schema_engine: metadata, field types, record store, query compiler, rights", ("cardbase.schema_engine",)),
    ("report_builder / doc_templates / transfer / automation: reports, Word templates, imports "
     "and backups, the worker and automations over the engine",
     ("cardbase.report_builder", "cardbase.doc_templates", "cardbase.transfer", "cardbase.automation")),
    ("platform / designer_ui: the Flask applications", ("cardbase.platform", "cardbase.designer_ui")),
]

# Inside cardbase.schema_engine, lowest first (names relative to cardbase.schema_engine;
# "" is the package's own __init__). DESIGN.md fixes: formula <- field_types <- snapshot <-
# query <- rights <- computed <- store <- layouts, solutions, ...; the rest is placed here.
ENGINE_LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("base: errors, messages, names, values, the actor and the admin policy (no tables)",
     ("", "errors", "i18n", "naming", "values", "actor", "accounts", "accounts.policy")),
    ("models: the system tables (SQLAlchemy ORM) and creating them",
     ("meta_models", "rights_models", "token_models", "report_models", "template_models", "transfer_models",
      "automation_models", "currency_models", "system_tables")),
    ("field_types: one class per field type (no schema, no SQL compiler)", ("field_types",)),
    ("snapshot: the schema snapshot and its cache, the database handle, DDL, translations",
     ("snapshot", "db", "data_versions", "physical", "drift", "translations", "config_log", "sequences", "exact_sums")),
    ("query: the filter language and query compiler; what reads it (field rules, search "
     "index, usages, field references in stored definitions)",
     ("query", "field_rules", "field_sources", "search_index", "usage", "references")),
    ("rights: object, record, field and rule rights, shares, explain", ("rights",)),
    ("computed: formula, lookup and rollup fields at run time", ("computed",)),
    ("store: the record store (session, pipeline) and the schema service: the two write paths",
     ("store", "schema_service")),
    ("services: layouts, solutions, accounts (users, groups, tokens) -- and later reports, "
     "documents, imports, automation",
     ("layouts", "solution", "solution_diff", "accounts.users", "accounts.groups", "accounts.tokens",
      "accounts.passwords", "accounts.password_rules", "accounts.throttle", "currencies")),
]

# Only the Flask applications know Flask.
NO_FLASK = ("cardbase.formula", "cardbase.schema_engine", "cardbase.report_builder", "cardbase.doc_templates",
            "cardbase.transfer", "cardbase.automation")
FLASK_MODULES = ("flask", "flask_login", "flask_wtf", "flask_babel", "flask_bootstrap", "werkzeug")


@dataclass(frozen=True)
class Import:
    module: str  # the importing module
    target: str  # the module imported (a package's __init__ for its name)
    line: int
    in_function: bool
    text: str


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def all_modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


class _Collector(ast.NodeVisitor):
    def __init__(self, module: str, is_package: bool, modules: set[str]):
        self.module, self.is_package, self.modules = module, is_package, modules
        self.depth = 0
        self.found: list[Import] = []

    def visit_If(self, node: ast.If) -> None:
        if _type_checking(node.test):
            for child in node.orelse:  # only the else branch runs
                self.visit(child)
            return
        self.generic_visit(node)

    def _function(self, node: ast.AST) -> None:
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = _function

    def _add(self, node: ast.stmt, target: str) -> None:
        self.found.append(Import(self.module, target, node.lineno, self.depth > 0, ast.unparse(node)))

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(node, alias.name)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level:
            base = self.module.split(".")
            if not self.is_package:
                base = base[:-1]
            base = base[: len(base) - (node.level - 1)]
            source = ".".join(base + ([node.module] if node.module else []))
        else:
            source = node.module or ""
        for alias in node.names:  # "from pkg import sub" imports the module pkg.sub
            sub = f"{source}.{alias.name}"
            self._add(node, sub if sub in self.modules else source)


def collect_imports() -> list[Import]:
    modules = all_modules()
    names = set(modules)
    out: list[Import] = []
    for name, path in modules.items():
        collector = _Collector(name, path.name == "__init__.py", names)
        collector.visit(ast.parse(path.read_text(encoding="utf-8"), str(path)))
        for imp in collector.found:
            out.append(imp)
            # importing a.b.c runs a/__init__ and a/b/__init__ (unless the importer is inside them)
            parts = imp.target.split(".")
            for i in range(1, len(parts)):
                package = ".".join(parts[:i])
                if package in names and not (name == package or name.startswith(package + ".")):
                    out.append(Import(name, package, imp.line, imp.in_function, imp.text + f"  (runs {package})"))
    return out


def _layer(module: str, layers: list[tuple[str, tuple[str, ...]]], prefix: str = "") -> tuple[int, str] | None:
    best: tuple[int, int, str] | None = None  # (length of the entry, index, layer name)
    for index, (layer, entries) in enumerate(layers):
        for entry in entries:
            full = f"{prefix}.{entry}" if prefix and entry else (prefix or entry)
            if module == full or module.startswith(full + "."):
                if best is None or len(full) > best[0]:
                    best = (len(full), index, layer)
    return None if best is None else (best[1], best[2])


def package_layer(module: str) -> tuple[int, str] | None:
    return _layer(module, PACKAGE_LAYERS)


def engine_layer(module: str) -> tuple[int, str] | None:
    return _layer(module, ENGINE_LAYERS, "cardbase.schema_engine")


def _describe(imp: Import) -> str:
    where = "inside a function" if imp.in_function else "at module level"
    return f"{imp.module} (line {imp.line}, {where}): `{imp.text}`"


def test_every_module_has_a_layer():
    missing = [m for m in all_modules() if package_layer(m) is None
               or (m.startswith("cardbase.schema_engine") and engine_layer(m) is None)]
    assert not missing, "modules in no layer (add them to tests/test_layering.py): " + ", ".join(missing)


def test_components_import_only_lower_components():
    """formula <- schema_engine <- report_builder, doc_templates <- platform, designer_ui."""
    broken = []
    for imp in collect_imports():
        if not imp.target.startswith("cardbase"):
            continue
        mine, theirs = package_layer(imp.module), package_layer(imp.target)
        if mine and theirs and theirs[0] > mine[0]:
            broken.append(f"{_describe(imp)}\n    imports the higher layer '{theirs[1]}'\n"
                          f"    from '{mine[1]}'")
    assert not broken, "imports against the component layers (DESIGN.md):\n" + "\n".join(broken)


def test_schema_engine_layers():
    """Inside schema_engine: base <- models <- field_types <- snapshot <- query <- rights <-
    computed <- store <- services (see ENGINE_LAYERS)."""
    broken = []
    for imp in collect_imports():
        if not (imp.module.startswith("cardbase.schema_engine") and imp.target.startswith("cardbase.schema_engine")):
            continue
        mine, theirs = engine_layer(imp.module), engine_layer(imp.target)
        if mine and theirs and theirs[0] > mine[0]:
            broken.append(f"{_describe(imp)}\n    imports {imp.target}, layer {theirs[0]} '{theirs[1]}'\n"
                          f"    from layer {mine[0]} '{mine[1]}'")
    assert not broken, ("a lower layer of schema_engine imports a higher one; pass the piece in or move it "
                        "down (../shared/DESIGN.md):\n" + "\n".join(broken))


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return out


@pytest.mark.parametrize("package", ["cardbase.formula", "cardbase.schema_engine"])
def test_no_import_cycles(package):
    """No cycle among the modules, counting imports inside functions: a function-level
    import that breaks a cycle at import time hides it, it does not remove it."""
    edges: dict[str, set[str]] = {}
    how: dict[tuple[str, str], Import] = {}
    for imp in collect_imports():
        if imp.module.startswith(package) and imp.target.startswith(package) and imp.target != imp.module:
            edges.setdefault(imp.module, set()).add(imp.target)
            how.setdefault((imp.module, imp.target), imp)
    cycles = _cycles(edges)
    report = []
    for component in cycles:
        members = set(component)
        lines = [_describe(how[(a, b)]) for a in component for b in sorted(edges.get(a, ())) if b in members]
        report.append("cycle among " + ", ".join(component) + ":\n    " + "\n    ".join(lines))
    assert not cycles, "import cycles:\n" + "\n".join(report)


def test_no_flask_below_the_applications():
    """schema_engine, formula, report_builder and doc_templates never import Flask."""
    broken = [_describe(imp) for imp in collect_imports()
              if imp.module.startswith(NO_FLASK) and imp.target.split(".")[0] in FLASK_MODULES]
    assert not broken, "Flask imported below the applications:\n" + "\n".join(broken)


def test_the_check_sees_function_level_and_skips_type_checking_imports(tmp_path):
    """The walk itself: an import inside a function counts, one under TYPE_CHECKING does not."""
    source = ("from typing import TYPE_CHECKING\n"
              "if TYPE_CHECKING:\n    from .store import RecordStore\n"
              "def f():\n    from ..computed.plan import plan_for\n")
    collector = _Collector("cardbase.schema_engine.rights.derived", False,
                           {"cardbase.schema_engine.computed.plan"})
    collector.visit(ast.parse(source))
    targets = [(i.target, i.in_function) for i in collector.found]
    assert targets == [("typing", False), ("cardbase.schema_engine.computed.plan", True)]
    assert engine_layer("cardbase.schema_engine.computed.plan")[0] > engine_layer(
        "cardbase.schema_engine.rights.derived")[0]
