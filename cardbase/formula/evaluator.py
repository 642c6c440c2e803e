"""Typed tree -> a program run by simpleeval.

The typed tree is compiled into a Python expression over generated names only (``v0`` for
reference values, ``c0`` for constants, ``SUM(...)`` for our functions); no user text ever
reaches Python's parser. simpleeval runs it with our operators (null-safe, size-bounded)
and our whitelisted functions, nothing else. Constant parts are computed once at compile
time, so a constant that breaks a limit (10^100000, REPT("a", 10^9)) is refused when the
formula is saved, with the position of the culprit.
"""
from __future__ import annotations

import ast
import decimal
import logging
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any, Callable, Mapping

from simpleeval import SimpleEval

from .errors import FormulaError
from .functions import FUNCTIONS
from .nodes import Binary, Call, FieldRef, Literal, Node, Unary
from .runtime import (BINARY_OPS, CONTEXT, UNARY_OPS, LimitExceeded, convert, op_add, op_concat,
                      op_div, op_eq, op_ge, op_gt, op_le, op_lt, op_mod, op_mul, op_ne, op_neg,
                      op_pos, op_pow, op_sub, result, truth)
from .valuetypes import BOOLEAN

log = logging.getLogger(__name__)

# simpleeval's operator table: every Python operator the generated code uses, mapped to ours.
OPERATORS = {
    ast.Add: op_add, ast.Sub: op_sub, ast.Mult: op_mul, ast.Div: op_div, ast.Mod: op_mod,
    ast.Pow: op_pow, ast.BitAnd: op_concat,
    ast.Eq: op_eq, ast.NotEq: op_ne, ast.Lt: op_lt, ast.LtE: op_le, ast.Gt: op_gt, ast.GtE: op_ge,
    ast.USub: op_neg, ast.UAdd: op_pos,
}
_PY_OPS = {"+": "+", "-": "-", "*": "*", "/": "/", "%": "%", "^": "**", "&": "&",
           "=": "==", "<>": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


# simpleeval's function table: our library and the truth of a condition. Nothing else.
EVAL_FUNCTIONS: dict[str, Callable] = {name: spec.impl for name, spec in FUNCTIONS.items()
                                       if spec.impl is not None}
EVAL_FUNCTIONS["TRUTH"] = truth
_FIXED_NAMES = {"NONE": None}


@dataclass(frozen=True)
class Program:
    expr: str  # the generated expression (for debugging; parsed is what runs)
    parsed: ast.AST
    constants: Mapping[str, Any]
    slots: tuple[tuple[str, str, str, bool], ...]  # (python name, key, type, many)
    result_type: str
    clock: bool  # uses TODAY()/NOW()


def build(typed: Node, text: str) -> Program:
    with decimal.localcontext(CONTEXT):
        builder = _Builder(text)
        expr = builder.emit(typed)
    parsed = SimpleEval.parse(expr)
    return Program(expr, parsed, {**_FIXED_NAMES, **builder.constants},
                   tuple(builder.slots.values()), typed.vtype, builder.clock)


class _Builder:
    def __init__(self, text: str):
        self.text = text
        self.constants: dict[str, Any] = {}
        self.slots: dict[str, tuple[str, str, str, bool]] = {}
        self.clock = False

    def constant(self, value: Any) -> str:
        name = f"c{len(self.constants)}"
        self.constants[name] = value
        return name

    def emit(self, node: Node) -> str:
        if node.const:
            return self.constant(fold(node, self.text))
        if isinstance(node, FieldRef):
            key = node.key
            assert key is not None  # the checker sets every reference's key
            if key not in self.slots:
                self.slots[key] = (f"v{len(self.slots)}", key, node.vtype, node.many)
            return self.slots[key][0]
        if isinstance(node, Unary):
            return f"({node.op}{self.emit(node.operand)})"
        if isinstance(node, Binary):
            return f"({self.emit(node.left)} {_PY_OPS[node.op]} {self.emit(node.right)})"
        if isinstance(node, Call):
            return self.call(node)
        raise TypeError(f"cannot compile {node!r}")  # pragma: no cover

    def condition(self, node: Node) -> str:
        code = self.emit(node)
        # a TRUE/FALSE value (bool or None) already has the right Python truth
        return code if node.type == BOOLEAN else f"TRUTH({code})"

    def call(self, node: Call) -> str:
        if node.name == "IF":  # lazy: only the chosen branch runs
            otherwise = self.emit(node.args[2]) if len(node.args) > 2 else "NONE"
            return f"({self.emit(node.args[1])} if {self.condition(node.args[0])} else {otherwise})"
        if node.name == "IFS":  # a chain of IFs (the parser counts each condition as a level)
            code = "NONE"
            for i in range(len(node.args) - 2, -1, -2):
                code = f"({self.emit(node.args[i + 1])} if {self.condition(node.args[i])} else {code})"
            return code
        args = [self.emit(a) for a in node.args]
        if FUNCTIONS[node.name].clock:  # the checker set the canonical name
            self.clock = True
            args.insert(0, "CLOCK")
        return f"{node.name}({', '.join(args)})"


def fold(node: Node, text: str) -> Any:
    """The value of a constant subtree, computed now. A limit broken here is the formula's
    fault: FormulaError at the operator or function. Other runtime problems give empty."""
    if isinstance(node, Literal):
        return node.value
    try:
        if isinstance(node, Unary):
            return UNARY_OPS[node.op](fold(node.operand, text))
        if isinstance(node, Binary):
            left, right = fold(node.left, text), fold(node.right, text)
            try:
                return BINARY_OPS[node.op](left, right)
            except LimitExceeded as exc:
                raise FormulaError(str(exc), node.op_pos, text) from None
        if isinstance(node, Call):
            if node.name == "IF":
                if truth(fold(node.args[0], text)):
                    return fold(node.args[1], text)
                return fold(node.args[2], text) if len(node.args) > 2 else None
            if node.name == "IFS":
                for i in range(0, len(node.args), 2):
                    if truth(fold(node.args[i], text)):
                        return fold(node.args[i + 1], text)
                return None
            values = [fold(a, text) for a in node.args]
            impl = FUNCTIONS[node.name].impl
            assert impl is not None  # only IF and IFS have none, folded above
            try:
                return impl(*values)
            except LimitExceeded as exc:
                raise FormulaError(f"{node.name}: {exc}", node.pos, text) from None
    except FormulaError:
        raise
    except _EXPECTED:
        return None
    except Exception:  # a bug, not the user's fault: log it, the value is empty
        log.warning("constant folding failed unexpectedly: %s", text, exc_info=True)
        return None
    raise TypeError(f"cannot fold {node!r}")  # pragma: no cover


# ---- running -----------------------------------------------------------------------------
_EXPECTED = (ArithmeticError, ValueError, OverflowError)  # incl. LimitExceeded, decimal traps


def _clock(now: Any) -> datetime:
    if callable(now):
        now = now()
    if now is None:
        return datetime.now(timezone.utc)
    if isinstance(now, datetime):
        return now
    if isinstance(now, date):
        return datetime(now.year, now.month, now.day)
    raise TypeError("now must be a datetime, a date or a callable returning one")


def run(program: Program, values: Mapping[str, Any] | None, now: Any = None) -> Any:
    """Evaluate; any runtime problem gives None. Never raises for any input values."""
    names = dict(program.constants)
    values = values or {}
    try:
        with decimal.localcontext(CONTEXT):
            for name, key, type_, many in program.slots:
                names[name] = convert(values.get(key), type_, many)
            if program.clock:
                names["CLOCK"] = _clock(now)
            evaluator = SimpleEval(operators=OPERATORS, functions=EVAL_FUNCTIONS, names=names)
            value = evaluator.eval(program.expr, previously_parsed=program.parsed)
            return result(value, program.result_type)
    except _EXPECTED:
        return None
    except Exception:  # a bug or a bad `now`, not the user's fault: log it, stay empty
        log.warning("formula evaluation failed unexpectedly: %s", program.expr, exc_info=True)
        return None
