"""Resolve references and infer/check types: syntax tree -> typed tree.

Every error names its place (a FormulaError position) and its reason: an unknown field or
function, the wrong number of arguments, a value of the wrong type, a list outside an
aggregate, values of different types compared.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import replace
from decimal import Decimal
from typing import NoReturn

from .canonical import render_tolerant
from .errors import FormulaError
from .functions import ALIASES, FUNCTIONS, lookup
from .nodes import Binary, Call, FieldRef, Literal, Node, Unary
from .resolver import Ref, Resolver, normalized
from .tokenizer import format_path
from .valuetypes import ANY, BOOLEAN, DATES, NUMBER, TEXT, comparable, describe

KEY_RE = re.compile(r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$")
ARITHMETIC = frozenset("*/%^")
COMPARISONS = frozenset({"=", "<>", "<", "<=", ">", ">="})
_LIST_FUNCTIONS = "SUM, AVG, MIN, MAX, COUNT, CONCAT or TEXTJOIN"


def check(tree: Node, resolver: Resolver, text: str) -> tuple[Node, dict[str, Ref]]:
    """Return the typed tree and the references it uses (key -> Ref)."""
    checker = _Checker(resolver, text)
    typed = checker.visit(tree)
    if typed.many:
        checker.list_error(typed)
    return typed, checker.refs


class _Checker:
    def __init__(self, resolver: Resolver, text: str):
        self.resolver = resolver
        self.text = text
        self.refs: dict[str, Ref] = {}

    def fail(self, message: str, pos: int) -> NoReturn:
        raise FormulaError(message, pos, self.text)

    def source(self, node: Node) -> str:
        shown = render_tolerant(self.text[node.pos:node.end], self.resolver)
        return shown if len(shown) <= 60 else shown[:57] + "..."

    def list_error(self, node: Node):
        self.fail(f"{self.source(node)} is {describe(node.vtype, True)} (it goes through a child "
                  f"list); use it inside {_LIST_FUNCTIONS}", node.pos)

    def scalar(self, node: Node) -> Node:
        typed = self.visit(node)
        if typed.many:
            self.list_error(typed)
        return typed

    # ---- nodes -------------------------------------------------------------------------
    def visit(self, node: Node) -> Node:
        if isinstance(node, Literal):
            return replace(node, type=_literal_type(node.value), const=True)
        if isinstance(node, FieldRef):
            return self.reference(node)
        if isinstance(node, Unary):
            operand = self.scalar(node.operand)
            self.need_number(operand)
            return replace(node, operand=operand, type=NUMBER, const=operand.const)
        if isinstance(node, Binary):
            return self.binary(node)
        if isinstance(node, Call):
            return self.call(node)
        raise TypeError(f"unknown node {node!r}")  # pragma: no cover

    def reference(self, node: FieldRef) -> Node:
        try:
            if node.key is not None:
                ref = self.resolver.resolve_key(node.key)
            else:
                ref = self.resolver.resolve(list(node.path))
            failure = None
        except LookupError as exc:
            failure = exc
        if failure is not None:
            if node.key is not None:
                self.fail(f"a field this formula uses ({{#{node.key}}}) was deleted or is not "
                          "available here", node.pos)
            args = failure.args
            reason = args[0] if type(failure) is not KeyError and args and isinstance(args[0], str) else ""
            self.fail(f"unknown field {format_path(node.path)}" + (f": {reason}" if reason else ""), node.pos)
        if not isinstance(ref, Ref) or not isinstance(ref.key, str) or not KEY_RE.match(ref.key):
            raise ValueError(f"resolver returned an invalid Ref for {node.path or node.key}: {ref!r}")
        ref = normalized(ref)
        self.refs[ref.key] = ref
        return replace(node, key=ref.key, type=ref.type, many=ref.many, const=False)

    def need_number(self, node: Node):
        if node.type not in (NUMBER, ANY):
            self.fail(f"{describe(node.vtype)} where a number is needed", node.pos)

    def binary(self, node: Binary) -> Node:
        left, right = self.scalar(node.left), self.scalar(node.right)
        lt, rt, op = left.vtype, right.vtype, node.op
        if op == "&":
            result = TEXT
        elif op in COMPARISONS:
            if not comparable(lt, rt):
                self.fail(f"cannot compare {describe(lt)} with {describe(rt)}", node.op_pos)
            result = BOOLEAN
        elif op in ARITHMETIC:
            self.need_number(left)
            self.need_number(right)
            result = NUMBER
        else:
            result = self.plus_minus(op, left, right, node.op_pos)
        return replace(node, left=left, right=right, type=result, const=left.const and right.const)

    def plus_minus(self, op: str, left: Node, right: Node, op_pos: int) -> str:
        lt, rt = left.vtype, right.vtype
        if lt in DATES and rt in DATES:
            if op == "-":
                return NUMBER  # days between
            self.fail("cannot add two dates (add a number of days to a date)", op_pos)
        if lt in DATES:
            self.need_number(right)
            return lt
        if rt in DATES:
            if op == "-":
                self.fail(f"cannot subtract a date from {describe(lt)}", op_pos)
            self.need_number(left)
            return rt
        self.need_number(left)
        self.need_number(right)
        return NUMBER

    def call(self, node: Call) -> Node:
        spec = lookup(node.name)
        if spec is None:
            names = list(FUNCTIONS) + list(ALIASES)
            close = difflib.get_close_matches(node.name, names, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            self.fail(f"unknown function {node.written}{hint}", node.pos)
        count = len(node.args)
        if count < spec.min_args or (spec.max_args is not None and count > spec.max_args):
            pos = node.args[spec.max_args].pos if spec.max_args is not None and count > spec.max_args else node.pos
            self.fail(f"{spec.name} takes {_arity(spec)}, got {count}", pos)
        args = []
        for arg in node.args:
            typed = self.visit(arg)
            if typed.many and not spec.lists:
                self.list_error(typed)
            args.append(typed)
        result = spec.check(spec, args)
        const = all(a.const for a in args) and not spec.clock
        return replace(node, name=spec.name, args=tuple(args), type=result, const=const)


def _arity(spec) -> str:
    lo, hi = spec.min_args, spec.max_args
    plural = lambda n: f"{n} argument" + ("" if n == 1 else "s")  # noqa: E731
    if hi is None:
        return f"at least {plural(lo)}"
    if lo == hi:
        return "no arguments" if lo == 0 else f"exactly {plural(lo)}"
    if hi == lo + 1:
        return f"{lo} or {plural(hi)}"
    return f"{lo} to {plural(hi)}"


def _literal_type(value) -> str:
    if isinstance(value, bool):
        return BOOLEAN
    if isinstance(value, Decimal):
        return NUMBER
    if isinstance(value, str):
        return TEXT
    return ANY

