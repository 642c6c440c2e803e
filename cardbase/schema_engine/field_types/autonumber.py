"""Automatic numbering ("INV-2026-00042"): the record store draws the next number from a
sequence and formats it with the field's pattern. Also used for every object's Code."""
from __future__ import annotations

import re
import unicodedata
from datetime import date
from typing import Any

import marshmallow as ma
import sqlalchemy as sa

from ..errors import SchemaError
from .base import TEXTUAL, FieldType, FieldValueError
from .options import TEXT, OptionSpec, _l
from .decimal import shown
from .registry import register
from ..i18n import _

DEFAULT_PATTERN = "{00000}"
MAX_PATTERN = 60
MAX_CODE = 64
_TOKEN = re.compile(r"\{([^{}]*)\}")
_COUNTER = re.compile(r"^0{1,12}$")
DATE_TOKENS = ("YYYY", "YY", "MM")
_HELP = "use {00000} for the counter (the zeros give the width) and {YYYY}, {YY} or {MM} for the date"


def validate_pattern(pattern: Any, key: str = "options.pattern") -> str:
    """Check a numbering pattern; errors are raised as SchemaError under ``key``."""
    if not isinstance(pattern, str) or not pattern.strip():
        raise SchemaError({key: "is required, e.g. INV-{00000}"})
    pattern = pattern.strip()
    if len(pattern) > MAX_PATTERN:
        raise SchemaError({key: f"is {len(pattern)} characters long; at most {MAX_PATTERN} are allowed"})
    if any(unicodedata.category(c) == "Cc" for c in pattern):
        raise SchemaError({key: "must not contain control characters"})
    counters = 0
    for token in _TOKEN.findall(pattern):
        if _COUNTER.match(token):
            counters += 1
        elif token not in DATE_TOKENS:
            raise SchemaError({key: f"'{{{token}}}' is not a placeholder: {_HELP}"})
    if "{" in _TOKEN.sub("", pattern) or "}" in _TOKEN.sub("", pattern):
        raise SchemaError({key: f"has an unmatched brace: {_HELP}"})
    if counters != 1:
        raise SchemaError({key: f"must contain exactly one counter such as {{00000}}, not {counters}: {_HELP}"})
    return pattern


def code_prefix(pattern: str) -> str:
    """The fixed text a pattern's codes start with ("ORD-" of "ORD-{YYYY}-{00000}"),
    upper-case: two objects with the same prefix would give codes that read alike."""
    return pattern.split("{", 1)[0].strip().upper()


def format_code(pattern: str, number: int, today: date | None = None) -> str:
    """format_code("INV-{YYYY}-{0000}", 42, date(2026, 11, 22)) == "INV-2026-0042"."""
    if number < 0:
        raise ValueError("the counter cannot be negative")
    today = today or date.today()
    values = {"YYYY": f"{today.year:04d}", "YY": f"{today.year % 100:02d}", "MM": f"{today.month:02d}"}

    def replace(m: re.Match) -> str:
        token = m.group(1)
        return str(number).zfill(len(token)) if _COUNTER.match(token) else values.get(token, m.group(0))

    return _TOKEN.sub(replace, pattern)


@register
class AutonumberType(FieldType):
    """A number the system assigns on create; users never type it."""

    name = "autonumber"
    label = _l("Automatic number")
    operators = TEXTUAL
    indexed = True
    searchable = True
    writable = False
    supports_default = False

    options = (
        OptionSpec("pattern", TEXT, default=DEFAULT_PATTERN, check=validate_pattern, max_length=MAX_PATTERN,
                   label=_l("Numbering pattern"),
                   help=_l("e.g. INV-{YYYY}-{00000}: the zeros are the counter and its width")),
    )

    def sa_type(self, field) -> sa.types.TypeEngine:
        return sa.String(MAX_CODE)

    def marshmallow_field(self, field) -> ma.fields.Field:
        return ma.fields.String(allow_none=True, validate=ma.validate.Length(max=MAX_CODE))

    def parse(self, field, raw: Any) -> str | None:
        """Only imports keep existing codes; users cannot write this field."""
        if isinstance(raw, int) and not isinstance(raw, bool):
            raw = str(raw)
        if self.is_empty(raw):
            return None
        if not isinstance(raw, str):
            raise FieldValueError(_('must be a code text, not %(value)s', value=shown(raw)))
        text = raw.strip()
        if len(text) > MAX_CODE:
            raise FieldValueError(_('is %(length)s characters long; at most %(max_code)s are allowed',
                                    length=len(text), max_code=MAX_CODE))
        if any(unicodedata.category(c) == "Cc" for c in text):
            raise FieldValueError(_("must not contain control characters"))
        return text or None

    def to_json(self, field, value: str | None) -> str | None:
        return value
