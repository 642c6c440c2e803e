"""Tokens -> syntax tree: a small Pratt parser with Excel's operators and precedence.

Precedence, loosest first: comparisons (= <> < <= > >=), & , + -, * / %, ^, then unary
- and +. All binary operators are left-associative (2^3^2 = 64, as in Excel), and a unary
minus binds tighter than ^ (-2^2 = 4, as in Excel).
"""
from __future__ import annotations

from typing import NoReturn, Sequence

from . import tokenizer as tk
from .errors import FormulaError
from .limits import MAX_ARGS, MAX_DEPTH, MAX_FORMULA_LENGTH
from .nodes import Binary, Call, FieldRef, Literal, Node, Unary

BINARY_POWER = {
    "=": 10, "<>": 10, "<": 10, "<=": 10, ">": 10, ">=": 10,
    "&": 20,
    "+": 30, "-": 30,
    "*": 40, "/": 40, "%": 40,
    "^": 50,
}
UNARY_POWER = 60


def parse(text: str, max_length: int = MAX_FORMULA_LENGTH) -> Node:
    """Parse formula text; raises FormulaError(message, position) on any problem."""
    if not isinstance(text, str):
        raise FormulaError("a formula must be text", 0)
    if len(text) > max_length:
        raise FormulaError(f"the formula is too long ({len(text)} characters; at most {max_length})",
                           max_length, text)
    try:
        return _Parser(text).parse()
    except FormulaError as exc:
        if exc.text is None:
            exc.text = text
        raise


def _describe(tok: tk.Token, text: str) -> str:
    if tok.kind == tk.EOF:
        return "the end of the formula"
    shown = text[tok.pos:tok.end]
    if len(shown) > 30:
        shown = shown[:27] + "..."
    return f"'{shown}'"


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.tokens: Sequence[tk.Token] = tk.tokenize(text)
        self.i = 0
        self.level = 0

    # ---- helpers ---------------------------------------------------------------------
    def peek(self, ahead: int = 0) -> tk.Token:
        return self.tokens[min(self.i + ahead, len(self.tokens) - 1)]

    def advance(self) -> tk.Token:
        tok = self.tokens[self.i]
        if tok.kind != tk.EOF:
            self.i += 1
        return tok

    def fail(self, message: str, pos: int) -> NoReturn:
        raise FormulaError(message, pos, self.text)

    def make(self, cls, pos: int, end: int, children: Sequence[Node] = (), **kw) -> Node:
        if cls is Call and kw["name"] == "IFS":  # a chain of IFs: each condition is a level
            depth = 1 + max((c.depth + i // 2 for i, c in enumerate(children)), default=0)
        else:
            depth = 1 + max((c.depth for c in children), default=0)
        if depth > MAX_DEPTH:
            self.fail(f"the formula is nested too deeply (more than {MAX_DEPTH} levels)", pos)
        return cls(pos, end, depth=depth, **kw)

    # ---- grammar ---------------------------------------------------------------------
    def parse(self) -> Node:
        if not self.text.strip():
            self.fail("the formula is empty", 0)
        first = self.peek()
        if first.kind == tk.OP and first.value == "=" and self.peek(1).kind != tk.EOF:
            self.advance()  # a leading '=' out of spreadsheet habit
        node = self.expression(0)
        tok = self.peek()
        if tok.kind != tk.EOF:
            if tok.kind == tk.RPAREN:
                self.fail("unexpected ')': there is no matching '('", tok.pos)
            if tok.kind == tk.COMMA:
                self.fail("unexpected ',' outside a function call", tok.pos)
            self.fail(f"unexpected {_describe(tok, self.text)}: an operator is missing before it", tok.pos)
        return node

    def expression(self, min_power: int) -> Node:
        self.level += 1
        if self.level > MAX_DEPTH:
            self.fail(f"the formula is nested too deeply (more than {MAX_DEPTH} levels)", self.peek().pos)
        left = self.prefix()
        while True:
            tok = self.peek()
            if tok.kind != tk.OP:
                break
            power = BINARY_POWER[tok.value]
            if power <= min_power:
                break
            self.advance()
            right = self.expression(power)
            left = self.make(Binary, left.pos, right.end, (left, right),
                             op=tok.value, op_pos=tok.pos, left=left, right=right)
        self.level -= 1
        return left

    def prefix(self) -> Node:
        tok = self.advance()
        kind = tok.kind
        if kind == tk.NUMBER or kind == tk.STRING:
            return self.make(Literal, tok.pos, tok.end, value=tok.value)
        if kind == tk.OP and tok.value in ("-", "+"):
            operand = self.expression(UNARY_POWER)
            return self.make(Unary, tok.pos, operand.end, (operand,), op=tok.value, operand=operand)
        if kind == tk.LPAREN:
            inner = self.expression(0)
            close = self.peek()
            if close.kind != tk.RPAREN:
                if close.kind == tk.EOF:
                    self.fail("'(' is not closed: a ')' is missing", tok.pos)
                self.fail(f"expected ')' but found {_describe(close, self.text)}", close.pos)
            self.advance()
            return inner
        if kind == tk.IDENT:
            if self.peek().kind == tk.LPAREN:
                return self.call(tok)
            if tok.value.lower() in ("true", "false"):
                return self.make(Literal, tok.pos, tok.end, value=tok.value.lower() == "true")
            return self.reference(tok)
        if kind == tk.NAME:
            return self.reference(tok)
        if kind == tk.KEY:
            if self.peek().kind == tk.DOT:
                self.fail("a stored reference {#…} cannot be followed by '.'", self.peek().pos)
            return self.make(FieldRef, tok.pos, tok.end, key=tok.value)
        if kind == tk.EOF:
            self.fail("the formula ends too early: a value is missing", tok.pos)
        if kind == tk.RPAREN:
            self.fail("unexpected ')': a value is missing before it", tok.pos)
        if kind == tk.COMMA:
            self.fail("unexpected ',': a value is missing before it", tok.pos)
        if kind == tk.OP:
            self.fail(f"a value is missing before '{tok.value}'", tok.pos)
        self.fail(f"unexpected {_describe(tok, self.text)}", tok.pos)

    def reference(self, first: tk.Token) -> Node:
        names, end = [first.value], first.end
        while self.peek().kind == tk.DOT:
            dot = self.advance()
            nxt = self.peek()
            if nxt.kind == tk.NAME or (nxt.kind == tk.IDENT and self.peek(1).kind != tk.LPAREN):
                self.advance()
                names.append(nxt.value)
                end = nxt.end
            else:
                self.fail("'.' must be followed by a field name, e.g. [Organisation].[City]", dot.pos)
        return self.make(FieldRef, first.pos, end, path=tuple(names))

    def call(self, name_tok: tk.Token) -> Node:
        open_tok = self.advance()  # '('
        args: list[Node] = []
        if self.peek().kind == tk.RPAREN:
            close = self.advance()
        else:
            while True:
                tok = self.peek()
                if tok.kind in (tk.COMMA, tk.RPAREN):
                    self.fail(f"an argument of {name_tok.value} is missing", tok.pos)
                if len(args) >= MAX_ARGS:
                    self.fail(f"too many arguments (at most {MAX_ARGS})", tok.pos)
                args.append(self.expression(0))
                tok = self.advance()
                if tok.kind == tk.COMMA:
                    continue
                if tok.kind == tk.RPAREN:
                    close = tok
                    break
                if tok.kind == tk.EOF:
                    self.fail(f"'{name_tok.value}(' is not closed: a ')' is missing", open_tok.pos)
                self.fail(f"expected ',' or ')' but found {_describe(tok, self.text)}", tok.pos)
        return self.make(Call, name_tok.pos, close.end, args, name=name_tok.value.upper(),
                         args=tuple(args), written=name_tok.value)
