"""Checking a template against the metadata: every placeholder and loop must name a real
field, link or child list of the template's object, every filter a real filter.

The tags of the document (``source.template_tags``) are parsed as one Jinja source, one
tag a line, and the syntax tree is walked with the types the names have: the template's
object at the top (its fields, its API name for the record itself, ``today`` and ``now``),
a record of the link's target after a link (``order.client.phone``), a list of child
records after a child list's name, and a record of the child inside
``{% for line in order_line %}``. What cannot be resolved becomes a ``Problem`` with the
tag as written, its place and a "did you mean".

The walk also yields the ``Plan``: which fields of which objects the template reads,
through which links and child lists -- what the context builder fetches and what the
rights are checked against -- and the names as written with the field ids they resolved
to, stored with the template so a field renamed later is still found by its old name."""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field as dc_field
from typing import Any, Iterable, Mapping

from jinja2 import TemplateSyntaxError, nodes

from cardbase.schema_engine.i18n import _
from cardbase.schema_engine.snapshot import FieldInfo, ObjectInfo, Schema

from .sandbox import LOOP_GUARD, STR_METHODS, environment
from .source import Tag, check_source

GLOBAL_NAMES = ("today", "now", "range")
LIST_KEEPING_FILTERS = frozenset({"sort", "reverse", "list", "unique", "select", "reject", "selectattr",
                                  "rejectattr", "default", "d"})
ITEM_FILTERS = frozenset({"first", "last", "min", "max"})
ATTRIBUTE_FILTERS = frozenset({"selectattr", "rejectattr", "groupby", "total", "sum", "map", "sort", "min", "max",
                               "unique", "dictsort"})
CHILD_PREFIX = "child:"
SELF = "self"  # stored for the name the template calls its own record by (the object's API name)


@dataclass
class Problem:
    text: str  # the tag as written
    place: str
    message: str
    suggestion: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"text": self.text, "place": self.place, "message": self.message, "suggestion": self.suggestion}



@dataclass
class Plan:
    """What a template reads of one object (the template's, a link's target or a child)."""

    obj: ObjectInfo
    fields: dict[int, FieldInfo] = dc_field(default_factory=dict)  # field id -> field read
    names: dict[str, FieldInfo] = dc_field(default_factory=dict)  # name as written -> field (incl. links)
    links: dict[int, "Plan"] = dc_field(default_factory=dict)  # link field id -> target's plan
    children: dict[int, "Plan"] = dc_field(default_factory=dict)  # child's link field id -> child's plan
    child_names: dict[str, FieldInfo] = dc_field(default_factory=dict)  # name as written -> child's link field
    self_names: set[str] = dc_field(default_factory=set)  # names of the record itself (the template's object)

    def walk(self, path: str = "") -> Iterable[tuple[str, "Plan"]]:
        yield path or self.obj.api_name, self
        for fid, sub in self.links.items():
            yield from sub.walk(f"{path or self.obj.api_name}.{self.fields[fid].api_name}")
        for name, link in self.child_names.items():
            if link.id in self.children:
                yield from self.children[link.stored_id].walk(f"{path or self.obj.api_name}.{name}")


@dataclass
class Analysis:
    plan: Plan
    problems: list[Problem]

    @property
    def ok(self) -> bool:
        return not self.problems

    def field_ids(self) -> set[int]:
        ids: set[int] = set()
        for _path, plan in self.plan.walk():
            ids.update(plan.fields)
            ids.update(f.stored_id for f in plan.child_names.values())
        return ids

    def object_ids(self) -> set[int]:
        return {plan.obj.id for _path, plan in self.plan.walk()}

    def references(self) -> dict[str, Any]:
        """Stored with the version: the fields it uses and the names it wrote for them."""
        names: dict[str, dict[str, Any]] = {}
        for _path, plan in self.plan.walk():
            own = names.setdefault(str(plan.obj.id), {})
            own.update({n: f.id for n, f in plan.names.items() if f.id is not None})
            own.update({n: f"{CHILD_PREFIX}{f.id}" for n, f in plan.child_names.items()})
            own.update({n: SELF for n in plan.self_names})
        return {"fields": sorted(self.field_ids()), "objects": sorted(self.object_ids()), "names": names}


# ---- types of names during the walk ---------------------------------------------------------------
@dataclass(frozen=True)
class RecordOf:
    plan: Plan


@dataclass(frozen=True)
class ListOf:
    plan: Plan


@dataclass(frozen=True)
class ValueOf:
    """The value of a field that is not a link: only its type's parts can follow."""

    field: FieldInfo


ANY = object()
VALUE_PARTS = {"number": ("amount", "currency"), "date": ("year", "month", "day", "weekday", "isoweekday", "isoformat"),
               "datetime": ("year", "month", "day", "hour", "minute", "second", "weekday", "isoweekday", "isoformat",
                            "date")}


def child_lists(schema: Schema, obj: ObjectInfo) -> dict[str, FieldInfo]:
    """The child lists of an object by name: the child's API name, or child__link when
    the child links to the object by more than one field."""
    pairs = schema.children(obj)
    out: dict[str, FieldInfo] = {}
    for child, link in pairs:
        several = sum(1 for c, _l in pairs if c.id == child.id) > 1
        out[f"{child.api_name}__{link.api_name}" if several else child.api_name] = link
    return out


class Checker:
    def __init__(self, schema: Schema, obj: ObjectInfo, tags: list[Tag], aliases: Mapping[str, Any] | None = None):
        self.schema, self.obj, self.tags = schema, obj, tags
        self.aliases = aliases or {}
        self.env = environment("en")
        self.problems: list[Problem] = []
        self.plan = Plan(obj)

    def run(self) -> Analysis:
        try:
            tree = self.env.parse(check_source(self.tags))
        except TemplateSyntaxError as exc:
            self._problem(exc.lineno, _("the tag cannot be read: %(reason)s", reason=exc.message))
            return Analysis(self.plan, self.problems)
        scope: dict[str, Any] = {name: ANY for name in GLOBAL_NAMES}
        scope.update(self._names_of(self.plan))
        own = [self.obj.api_name] + [n for n, ref in (self.aliases.get(str(self.obj.id)) or {}).items() if ref == SELF]
        for name in own:
            scope[name] = ("self", name)
        self._body(tree.body, scope)
        return Analysis(self.plan, self.problems)

    # ---- problems -------------------------------------------------------------------------------
    def _problem(self, lineno: int | None, message: str, name: str | None = None,
                 candidates: Iterable[str] = ()) -> None:
        tag = self.tags[lineno - 1] if lineno and 0 < lineno <= len(self.tags) else Tag("", "document")
        found = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6) if name else []
        problem = Problem(tag.text, tag.place, message, found[0] if found else None)
        if not any(p.text == problem.text and p.place == problem.place for p in self.problems):
            self.problems.append(problem)

    # ---- names of an object ------------------------------------------------------------------
    def _names_of(self, plan: Plan) -> dict[str, Any]:
        """Lazy: a name's type is worked out (and recorded in the plan) only when used.
        Names the template was checked with before a rename count too."""
        former = [n for n, ref in (self.aliases.get(str(plan.obj.id)) or {}).items() if ref != SELF]
        return {name: ("field", plan, name) for name in self._candidates(plan.obj) + former}

    def _candidates(self, obj: ObjectInfo) -> list[str]:
        return [f.api_name for f in obj.fields] + list(child_lists(self.schema, obj))

    def _member(self, plan: Plan, name: str, lineno: int) -> Any:
        obj = plan.obj
        field, link = self._alias(obj, name)  # what the name meant when checked (a renamed field) first
        if field is None and link is None:
            field = obj.fields_by_name.get(name)
            link = None if field is not None else child_lists(self.schema, obj).get(name)
        if field is not None:
            plan.names[name] = field
            if field.id is not None:
                plan.fields[field.id] = field
            if field.type == "link":
                target = self.schema.link_target(field)
                sub = plan.links.setdefault(field.stored_id, Plan(target))
                return RecordOf(sub)
            return ValueOf(field)
        if link is not None:
            plan.child_names[name] = link
            child = self.schema.object(link.object_id)
            return ListOf(plan.children.setdefault(link.stored_id, Plan(child)))
        self._problem(lineno, _("'%(object)s' has no field or child list '%(name)s'", object=obj.api_name, name=name),
                      name, self._candidates(obj))
        return ANY

    def _alias(self, obj: ObjectInfo, name: str) -> tuple[FieldInfo | None, FieldInfo | None]:
        """A name the template was checked with before a rename: the field it meant."""
        ref = (self.aliases.get(str(obj.id)) or {}).get(name)
        if isinstance(ref, int):
            field = next((f for f in obj.user_fields if f.id == ref), None)
            return field, None
        if isinstance(ref, str) and ref.startswith(CHILD_PREFIX):
            link_id = int(ref[len(CHILD_PREFIX):])
            found = [link for link in child_lists(self.schema, obj).values() if link.id == link_id]
            return None, (found[0] if found else None)
        return None, None

    # ---- statements -----------------------------------------------------------------------------
    def _body(self, body: Iterable[nodes.Node], scope: dict[str, Any]) -> None:
        for node in body:
            self._statement(node, scope)

    def _statement(self, node: nodes.Node, scope: dict[str, Any]) -> None:
        if isinstance(node, nodes.Output):
            for item in node.nodes:
                self._expr(item, scope)
        elif isinstance(node, nodes.For):
            element = self._element(self._expr(node.iter, scope))
            inner = dict(scope)
            self._bind(node.target, element, inner)
            inner["loop"] = ANY
            if node.test is not None:
                self._expr(node.test, inner)
            self._body(node.body, inner)
            self._body(node.else_, dict(scope))
        elif isinstance(node, nodes.If):
            self._expr(node.test, scope)
            self._body(node.body, scope)
            for branch in node.elif_:
                self._statement(branch, scope)
            self._body(node.else_, scope)
        elif isinstance(node, nodes.Assign):
            self._bind(node.target, self._expr(node.node, scope), scope)
        elif isinstance(node, nodes.AssignBlock):
            self._body(node.body, scope)
            self._bind(node.target, ANY, scope)
        elif isinstance(node, (nodes.Macro, nodes.CallBlock)):
            inner = dict(scope)
            for arg in node.args:
                self._bind(arg, ANY, inner)
            for default in node.defaults:
                self._expr(default, scope)
            inner.update(varargs=ANY, kwargs=ANY, caller=ANY)
            if isinstance(node, nodes.Macro):
                scope[node.name] = ANY
                inner[node.name] = ANY
            else:
                self._expr(node.call, scope)
            self._body(node.body, inner)
        elif isinstance(node, nodes.With):
            inner = dict(scope)
            for target, value in zip(node.targets, node.values):
                self._bind(target, self._expr(value, scope), inner)
            self._body(node.body, inner)
        elif isinstance(node, nodes.FilterBlock):
            self._body(node.body, scope)
            self._expr(node.filter, scope)
        elif isinstance(node, (nodes.Include, nodes.Import, nodes.FromImport, nodes.Extends, nodes.Block)):
            self._problem(node.lineno, _("include, import, extends and block are not available in documents"))
        elif isinstance(node, nodes.Expr):
            self._expr(node, scope)
        else:
            for child in node.iter_child_nodes():
                if isinstance(child, nodes.Expr):
                    self._expr(child, scope)
                else:
                    self._statement(child, scope)

    def _bind(self, target: nodes.Node, kind: Any, scope: dict[str, Any]) -> None:
        if isinstance(target, nodes.Name):
            scope[target.name] = kind
        elif isinstance(target, nodes.Tuple):
            for item in target.items:
                self._bind(item, ANY, scope)

    @staticmethod
    def _element(kind: Any) -> Any:
        return RecordOf(kind.plan) if isinstance(kind, ListOf) else ANY

    # ---- expressions ----------------------------------------------------------------------------
    def _expr(self, node: nodes.Node, scope: dict[str, Any]) -> Any:
        if isinstance(node, nodes.Name):
            if node.name not in scope:
                self._problem(node.lineno, _("unknown name '%(name)s'", name=node.name), node.name, scope)
                return ANY
            kind = scope[node.name]
            if isinstance(kind, tuple) and kind[0] == "self":
                self.plan.self_names.add(kind[1])
                return RecordOf(self.plan)
            if isinstance(kind, tuple) and kind[0] == "field":
                kind = self._member(kind[1], kind[2], node.lineno)
                scope[node.name] = kind
            return kind
        if isinstance(node, (nodes.Getattr, nodes.Getitem)):
            base = self._expr(node.node, scope)
            if isinstance(node, nodes.Getattr):
                name: Any = node.attr
            else:
                key = node.arg
                name = key.value if isinstance(key, nodes.Const) else None
                if not isinstance(key, nodes.Const):
                    self._expr(key, scope)
            if isinstance(base, RecordOf) and isinstance(name, str):
                return self._member(base.plan, name, node.lineno)
            if isinstance(base, ValueOf) and isinstance(name, str):
                parts = VALUE_PARTS.get(base.field.ftype.value_type, ()) + tuple(sorted(STR_METHODS))
                if name not in parts:
                    self._problem(node.lineno, _("'%(field)s' is a %(type)s field: it has no '%(name)s'",
                                                 field=base.field.api_name, type=base.field.type, name=name),
                                  name, parts)
            if isinstance(base, RecordOf):
                self._problem(node.lineno, _("a field is named by its API name, not by a number or expression"))
            return ANY
        if isinstance(node, nodes.Filter):
            return self._filter(node, scope)
        for child in node.iter_child_nodes():
            self._expr(child, scope)
        return ANY

    def _filter(self, node: nodes.Filter, scope: dict[str, Any]) -> Any:
        base = self._expr(node.node, scope) if node.node is not None else ANY
        if node.name == LOOP_GUARD:
            return base
        if node.name not in self.env.filters:
            self._problem(node.lineno, _("unknown filter '%(name)s'", name=node.name), node.name,
                          [n for n in self.env.filters if n != LOOP_GUARD])
        for arg in list(node.args) + [kw.value for kw in node.kwargs]:
            self._expr(arg, scope)
        if isinstance(base, ListOf) and node.name in ATTRIBUTE_FILTERS:
            attribute = next((kw.value for kw in node.kwargs if kw.key == "attribute"), None)
            if attribute is None and node.args and node.name in ("selectattr", "rejectattr", "groupby", "total"):
                attribute = node.args[0]
            if isinstance(attribute, nodes.Const) and isinstance(attribute.value, str):
                self._path(base.plan, attribute.value, node.lineno)
        if isinstance(base, ListOf) and node.name in LIST_KEEPING_FILTERS:
            return base
        if isinstance(base, ListOf) and node.name in ITEM_FILTERS:
            return RecordOf(base.plan)
        return ANY

    def _path(self, plan: Plan, path: str, lineno: int) -> None:
        kind: Any = RecordOf(plan)
        for part in path.split("."):
            if not isinstance(kind, RecordOf):
                return
            kind = self._member(kind.plan, part, lineno)


def analyse(schema: Schema, obj: ObjectInfo, tags: list[Tag], aliases: Mapping[str, Any] | None = None) -> Analysis:
    """Check ``tags`` against ``obj`` of ``schema``; ``aliases``: the names a stored
    version resolved (its ``references["names"]``), so renamed fields are still found."""
    return Checker(schema, obj, tags, aliases).run()
