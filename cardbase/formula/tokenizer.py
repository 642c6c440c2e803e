"""Formula text -> tokens with their character positions. Our own scanner: user text is
never handed to Python's parser."""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Iterator

from .errors import FormulaError
from .limits import MAX_NAME_LENGTH, MAX_NUMBER

# Token kinds
NUMBER = "number"  # value: Decimal
STRING = "string"  # value: str
NAME = "name"  # bracketed field name; value: the name
IDENT = "ident"  # bare word: API name, function name, TRUE/FALSE; value: the word
KEY = "key"  # stored reference {#12.34}; value: "12.34"
OP = "op"  # value: + - * / % ^ & = <> < <= > >=
LPAREN, RPAREN, COMMA, DOT, EOF = "(", ")", ",", ".", "eof"


@dataclass(frozen=True)
class Token:
    kind: str
    value: Any  # by kind: Decimal (NUMBER), None (EOF), else str
    pos: int  # offset of the first character
    end: int  # offset after the last character


_NUMBER_RE = re.compile(r"(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", re.ASCII)
_DIGITS = "0123456789"
_KEY_RE = re.compile(r"\{#([A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*)\}")
_SPACE = " \t\r\n\u00a0"
_TWO_CHAR_OPS = ("<>", "<=", ">=")
_ONE_CHAR_OPS = "+-*/%^&=<>"
_HINTS = {
    "!=": "use <> for 'not equal'",
    "==": "use = to compare",
    "&&": "use AND(a, b)",
    "||": "use OR(a, b) (and & to join text)",
    "**": "use ^ for powers",
}
_QUOTE_HINTS = {"'": "text goes in double quotes \"…\"",
                "\u201c": "use straight double quotes \"…\"", "\u201d": "use straight double quotes \"…\"",
                "\u2018": "text goes in straight double quotes \"…\"", "\u2019": "text goes in straight double quotes \"…\"",
                "{": "{#id} is the stored form of a reference; write [Field name]",
                "[": "a field name in brackets was not closed"}


def _ident_char(ch: str, first: bool) -> bool:
    return ch == "_" or ch.isalpha() or (not first and ch.isdigit())


def tokenize(text: str) -> list[Token]:
    return list(_scan(text))


def _scan(text: str) -> Iterator[Token]:
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch in _SPACE:
            i += 1
            continue
        two = text[i:i + 2]
        if two in _HINTS:
            raise FormulaError(f"'{two}' is not an operator: {_HINTS[two]}", i)
        if ch in _DIGITS or (ch == "." and text[i + 1:i + 2] in tuple(_DIGITS)):
            tok = _number(text, i)
            yield tok
            i = tok.end
            continue
        if ch == '"':
            tok = _string(text, i)
            yield tok
            i = tok.end
            continue
        if ch == "[":
            tok = _bracket(text, i)
            yield tok
            i = tok.end
            continue
        if ch == "{":
            m = _KEY_RE.match(text, i)
            if not m:
                raise FormulaError("'{' is not allowed here: " + _QUOTE_HINTS["{"], i)
            yield Token(KEY, m.group(1), i, m.end())
            i = m.end()
            continue
        if _ident_char(ch, True):
            j = i + 1
            while j < n and _ident_char(text[j], False):
                j += 1
            word = text[i:j]
            if word.startswith("__"):
                raise FormulaError(f"'{word}' is not allowed: names may not start with '__'", i)
            yield Token(IDENT, word, i, j)
            i = j
            continue
        if two in _TWO_CHAR_OPS:
            yield Token(OP, two, i, i + 2)
            i += 2
            continue
        if ch in _ONE_CHAR_OPS:
            yield Token(OP, ch, i, i + 1)
            i += 1
            continue
        if ch in "(),.":
            yield Token(ch, ch, i, i + 1)
            i += 1
            continue
        if ch == ";":
            raise FormulaError("';' is not allowed: separate arguments with ','", i)
        hint = _QUOTE_HINTS.get(ch)
        shown = ch if ch.isprintable() else repr(ch)
        raise FormulaError(f"unexpected character '{shown}'" + (f": {hint}" if hint else ""), i)
    yield Token(EOF, None, n, n)


def _number(text: str, i: int) -> Token:
    m = _NUMBER_RE.match(text, i)
    assert m is not None  # the caller saw a digit, or '.' and a digit
    end = m.end()
    if end < len(text) and (_ident_char(text[end], False) or text[end] == "."):
        raise FormulaError(f"'{text[i:end + 1]}' is not a number", i)
    raw = m.group(0)
    try:
        value = Decimal(raw)
    except InvalidOperation:  # pragma: no cover - the regex admits only valid numbers
        raise FormulaError(f"'{raw}' is not a number", i) from None
    if value and not (-200 <= value.adjusted() <= 200):
        raise FormulaError(f"the number {raw} is out of range", i)
    if abs(value) > MAX_NUMBER:
        raise FormulaError(f"the number {raw} is too large (at most {MAX_NUMBER:.0E})", i)
    if value.adjusted() < -100:  # so small it is zero for every purpose
        value = Decimal(0)
    return Token(NUMBER, value, i, end)


def _string(text: str, i: int) -> Token:
    parts, j = [], i + 1
    while True:
        k = text.find('"', j)
        if k < 0:
            raise FormulaError('text is not closed: a closing " is missing', i)
        parts.append(text[j:k])
        if text[k + 1:k + 2] == '"':  # "" is a quote inside the text
            parts.append('"')
            j = k + 2
            continue
        return Token(STRING, "".join(parts), i, k + 1)


def _bracket(text: str, i: int) -> Token:
    parts, j = [], i + 1
    while True:
        k = text.find("]", j)
        nl = text.find("\n", j)
        if k < 0 or (0 <= nl < k):
            raise FormulaError("field name is not closed: a closing ] is missing", i)
        parts.append(text[j:k])
        if text[k + 1:k + 2] == "]":  # ]] is a ] inside the name
            parts.append("]")
            j = k + 2
            continue
        name = " ".join("".join(parts).split())
        if not name:
            raise FormulaError("empty field name []", i)
        if len(name) > MAX_NAME_LENGTH:
            raise FormulaError(f"field name is too long (at most {MAX_NAME_LENGTH} characters)", i)
        return Token(NAME, name, i, k + 1)


def quote_name(name: str) -> str:
    """A field name as written in a formula: in brackets, a ] inside doubled."""
    return "[" + name.replace("]", "]]") + "]"


def format_path(names) -> str:
    return ".".join(quote_name(n) for n in names)
