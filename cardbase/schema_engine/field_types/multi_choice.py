"""Several values from a fixed list (tags, interests). Stored in one text column as
"|a|b|" — values in list order, with a bar on both sides — so "has a" is the portable
``LIKE '%|a|%'`` on SQLite and PostgreSQL alike, and "exactly {a, b}" is plain equality."""
from __future__ import annotations

from typing import Any, Sequence

import marshmallow as ma
import sqlalchemy as sa

from .base import FieldValueError, _like_escape
from .choice import ChoiceType, allowed_text, choices_matching, choices_of, find_choice, label_of
from .decimal import shown
from .registry import register
from .options import _l
from .truth import t_and, t_compare, t_not
from ..i18n import _


@register
class MultiChoiceType(ChoiceType):
    """Any number of choices from the field's list (same options as a choice)."""

    name = "multi_choice"
    label = _l("Multiple choice")
    operators = ("eq", "ne", "contains", "not_contains", "is_empty", "is_not_empty")
    value_type = "list"
    indexed = False
    supports_unique = False

    def sa_type(self, field) -> sa.types.TypeEngine:
        return sa.Text()

    def marshmallow_field(self, field) -> ma.fields.Field:
        values = [c["value"] for c in choices_of(field)]
        return ma.fields.List(ma.fields.String(validate=ma.validate.OneOf(values)), allow_none=True)

    def parse(self, field, raw: Any) -> list[str] | None:
        if self.is_empty(raw):
            return None
        if isinstance(raw, (str, int)) and not isinstance(raw, bool):
            raw = [raw]
        if not isinstance(raw, (list, tuple, set, frozenset)):
            raise FieldValueError(_('must be a list of choices (%(choices)s), not %(value)s',
                                    choices=allowed_text(field), value=shown(raw)))
        chosen = {find_choice(field, item) for item in raw if not self.is_empty(item)}
        values = [c["value"] for c in choices_of(field) if c["value"] in chosen]
        return values or None

    def to_json(self, field, value: Any) -> list[str] | None:
        return None if value is None else list(value)

    def to_db(self, field, value: Sequence[str] | None) -> tuple:
        return (f"|{'|'.join(value)}|" if value else None,)

    def from_db(self, field, values) -> list[str] | None:
        stored = values[0]
        if not stored:
            return None
        return [v for v in stored.split("|") if v] or None

    def import_value(self, field, text: Any) -> list[str] | None:
        """"a, b" or "a; b" (a choice whose value itself contains a comma also works)."""
        if not isinstance(text, str):
            return self.parse(field, text)
        text = text.strip()
        if not text:
            return None
        try:
            return self.parse(field, text)
        except FieldValueError:
            sep = ";" if ";" in text else ","
            return self.parse(field, [part.strip() for part in text.split(sep)])

    def format(self, field, value: Sequence[str] | None, locale: str = "en") -> str:
        return "" if not value else ", ".join(label_of(field, v, locale) for v in value)

    def search_text(self, field, value: Sequence[str] | None) -> str | None:
        return " ".join(label_of(field, v) for v in value) if value else None

    def search_clause(self, field, cols, word: str):
        values = choices_matching(field, word)
        if not values:
            return None
        return sa.or_(*[cols[0].like(f"%|{_like_escape(v)}|%", escape="\\") for v in values])

    def sort_expression(self, field, cols):
        return cols[0]

    def convert_from(self, field, source, value: Any) -> list[str] | None:
        if isinstance(value, str):
            return self.import_value(field, value)
        if isinstance(value, (list, tuple)):
            return self.parse(field, value)
        return super().convert_from(field, source, value)

    # ---- querying -----------------------------------------------------------------------
    def filter_value(self, field, op: str, value: Any) -> list[str] | None:
        if op in ("is_empty", "is_not_empty"):
            return None
        if op not in self.operators:
            raise FieldValueError(_("operator '%(op)s' is not supported by a multiple choice field", op=op))
        parsed = self.parse(field, value)
        if parsed is None and op in ("contains", "not_contains"):
            raise FieldValueError(_("operator '%(op)s' needs a choice or a list of choices", op=op))
        return parsed

    def filter_clause(self, field, cols, op: str, value: Any):
        col = cols[0]
        has = [col.like(f"%|{_like_escape(v)}|%", escape="\\") for v in value or ()]
        if op == "contains":  # has all of them
            return sa.and_(*has)
        if op == "not_contains":  # has none of them
            return sa.or_(col.is_(None), sa.and_(*[sa.not_(h) for h in has]))
        if op == "eq" and value:  # exactly this set
            return col == self._db1(field, value)
        if op == "ne" and value:
            return sa.or_(col != self._db1(field, value), col.is_(None))
        if op in ("eq", "is_empty"):
            return self.empty_clause(field, cols)
        if op in ("ne", "is_not_empty"):
            return sa.not_(self.empty_clause(field, cols))
        raise FieldValueError(_("operator '%(op)s' is not supported by a multiple choice field", op=op))

    def empty_clause(self, field, cols):
        return sa.or_(cols[0].is_(None), cols[0] == "")

    def filter_match(self, field, op: str, value: Any, current: Any):
        stored = self._db1(field, current) if current else None
        has = [None if stored is None else f"|{v}|" in stored for v in value or ()]
        if op == "contains":
            return t_and(has)
        if op == "not_contains":
            return True if stored is None else t_and(t_not(h) for h in has)
        if op == "eq" and value:
            return t_compare(stored, "eq", self._db1(field, value))
        if op == "ne" and value:
            return True if stored is None else stored != self._db1(field, value)
        empty = self.empty_match(field, stored)
        if op in ("eq", "is_empty"):
            return empty
        if op in ("ne", "is_not_empty"):
            return not empty
        raise FieldValueError(_("operator '%(op)s' is not supported by a multiple choice field", op=op))

    def empty_match(self, field, stored: Any) -> bool:
        return stored is None or stored == ""
