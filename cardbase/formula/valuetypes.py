"""Value types of the formula language and the rules that combine them at check time."""
from __future__ import annotations

NUMBER = "number"
TEXT = "text"
DATE = "date"
DATETIME = "datetime"
BOOLEAN = "boolean"
ANY = "any"  # empty, or a value whose type is not known (e.g. a link)

VALUE_TYPES = (NUMBER, TEXT, DATE, DATETIME, BOOLEAN, ANY)
DATES = frozenset({DATE, DATETIME})

# Field-type words the schema engine may hand us, mapped to formula types.
_ALIASES = {
    "number": NUMBER, "integer": NUMBER, "int": NUMBER, "decimal": NUMBER, "money": NUMBER,
    "float": NUMBER, "autonumber": NUMBER,
    "text": TEXT, "string": TEXT, "str": TEXT,
    "date": DATE, "datetime": DATETIME, "timestamp": DATETIME,
    "boolean": BOOLEAN, "bool": BOOLEAN,
    "any": ANY,
}


def normalize_type(name: str) -> str:
    """A type word -> one of VALUE_TYPES; unknown words (link, list, file …) become ANY."""
    return _ALIASES.get(str(name).strip().lower(), ANY)


_PHRASES = {
    NUMBER: "a number", TEXT: "text", DATE: "a date", DATETIME: "a date and time",
    BOOLEAN: "TRUE/FALSE", ANY: "an empty value",
}


def describe(type_: str, many: bool = False) -> str:
    """The phrase for a type in an error message: 'a number', 'text', 'a list of dates'."""
    if many:
        plural = {NUMBER: "numbers", TEXT: "texts", DATE: "dates", DATETIME: "dates and times",
                  BOOLEAN: "TRUE/FALSE values", ANY: "values"}[type_]
        return f"a list of {plural}"
    return _PHRASES[type_]


def unify(a: str, b: str) -> str | None:
    """The common type of two branches (IF, COALESCE …), or None when they clash."""
    if a == b or b == ANY:
        return a
    if a == ANY:
        return b
    if {a, b} == DATES:
        return DATETIME
    return None


def comparable(a: str, b: str) -> bool:
    return ANY in (a, b) or a == b or {a, b} <= DATES
