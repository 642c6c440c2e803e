"""The schema seen by a formula: names -> reference keys and back (``formula.Resolver``).

A name is a field's label or API name, matched without regard to case or extra spaces.
``[Organisation].[City]`` follows a link; ``[Order lines].[Cost]`` goes down a child list,
named by the child object's plural label (or its API name). When a child object links
here twice, its lists are told apart by the link: ``[Deals (Partner)]``.
"""
from __future__ import annotations

from typing import Sequence

from ...formula import Ref
from ..errors import NotFound
from ..snapshot import FieldInfo, ObjectInfo, Schema
from .keys import MAX_STEPS, Step, join, parse_key


def _norm(name: str) -> str:
    return " ".join(str(name).split()).casefold()


def match_field(obj: ObjectInfo, name: str) -> FieldInfo | None:
    wanted = _norm(name)
    for f in obj.fields:
        if _norm(f.label) == wanted or f.api_name == name.strip():
            return f
    return None


def child_lists(schema: Schema, obj: ObjectInfo) -> list[tuple[Step, str, tuple[str, ...]]]:
    """(step, display name, plain names) of every child list of ``obj``; the plain names
    (plural label, API name) are empty when the child object links here more than once."""
    kids = schema.children(obj)
    out: list[tuple[Step, str, tuple[str, ...]]] = []
    for child, link in kids:
        unique = sum(1 for c, _ in kids if c.id == child.id) == 1
        qualified = f"{child.label_plural} ({link.label})"
        plain: tuple[str, ...] = (child.label_plural, child.api_name) if unique else ()
        out.append((Step(link, True, obj, child), child.label_plural if unique else qualified, plain))
    return out


def match_child_list(schema: Schema, obj: ObjectInfo, name: str) -> Step | None:
    wanted = _norm(name)
    found = None
    ambiguous = []
    for step, display, plain in child_lists(schema, obj):
        if _norm(display) == wanted or any(_norm(p) == wanted for p in plain) \
                or _norm(f"{step.target.label_plural} ({step.field.label})") == wanted:
            found = step
        elif _norm(step.target.label_plural) == wanted or step.target.api_name == name.strip():
            ambiguous.append(display)
    if found is None and ambiguous:
        raise LookupError("there are several such lists; write " + " or ".join(f"[{a}]" for a in ambiguous))
    return found


def value_type(field: FieldInfo) -> str:
    return field.ftype.value_type  # a computed field's bound type gives its result's


class SchemaResolver:
    """``formula.Resolver`` for formulas of ``obj``."""

    def __init__(self, schema: Schema, obj: ObjectInfo):
        self.schema, self.obj = schema, obj

    def resolve(self, path: Sequence[str]) -> Ref:
        current = self.obj
        steps: list[Step] = []
        for i, name in enumerate(path):
            field = match_field(current, name)
            if i == len(path) - 1:
                if field is None:
                    if match_child_list(self.schema, current, name) is not None:
                        raise LookupError(f"it is a list of records; name one of their fields, "
                                          f"e.g. [{name}].[…] inside SUM or COUNT")
                    raise KeyError(name)
                if field.ftype.stored_apart:
                    raise LookupError(f"[{field.label}] links to several records, which a formula cannot "
                                      "calculate with")
                return Ref(join(tuple(steps), field), value_type(field), any(s.child for s in steps))
            if len(steps) == MAX_STEPS:
                raise LookupError(f"a reference crosses at most {MAX_STEPS} links")
            if field is not None:
                if field.type != "link":
                    raise LookupError(f"[{field.label}] is not a link, so the path cannot go on from it")
                step = Step(field, False, current, self.schema.link_target(field))
            else:
                child_step = match_child_list(self.schema, current, name)
                if child_step is None:
                    raise KeyError(name)
                step = child_step
            steps.append(step)
            current = step.target
        raise KeyError(tuple(path))  # an empty path

    def resolve_key(self, key: str) -> Ref:
        path = self._path(key)
        return Ref(key, value_type(path.field), path.many)

    def name_of(self, key: str) -> Sequence[str]:
        path = self._path(key)
        names = []
        for step in path.steps:
            if step.child:
                display = next(d for s, d, _ in child_lists(self.schema, step.source) if s.field.id == step.field.id)
                names.append(display)
            else:
                names.append(step.field.label)
        names.append(path.field.label)
        return names

    def _path(self, key: str):
        try:
            return parse_key(self.schema, self.obj, key)
        except NotFound as exc:
            raise LookupError(str(exc)) from None
