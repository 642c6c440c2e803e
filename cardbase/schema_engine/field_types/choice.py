"""One value from a fixed list (status, stage, category). The stored value is the choice's
``value``, so relabelling a choice changes no record; sorting follows the list's order.

The option helpers here are shared with multi_choice.
"""
from __future__ import annotations

import re
import unicodedata
from typing import Any, Mapping, Sequence

import marshmallow as ma
import sqlalchemy as sa

from ..errors import SchemaError
from .base import EQUALITY, FieldType, FieldValueError
from .options import CHOICE_LIST, OptionSpec, _l
from .decimal import shown
from .registry import register
from ..i18n import _

PALETTE = ("gray", "red", "orange", "yellow", "green", "teal", "blue", "indigo", "purple", "pink")
MAX_VALUE = 100
MAX_LABEL = 200
MAX_CHOICES = 1000
_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")


def _has_control(text: str) -> bool:
    return any(unicodedata.category(c) == "Cc" for c in text)


def _clean_choice(item: Any, key: str) -> dict[str, str]:
    if isinstance(item, str):
        item = {"value": item}
    if not isinstance(item, Mapping):
        raise SchemaError({key: 'must be {"value": ..., "label": ..., "color": ...}'})
    unknown = set(item) - {"value", "label", "color"}
    if unknown:
        raise SchemaError({key: f"unknown key(s) {', '.join(sorted(map(str, unknown)))}"})
    value = item.get("value")
    if not isinstance(value, str) or not value.strip():
        raise SchemaError({f"{key}.value": "is required"})
    value = value.strip()
    if len(value) > MAX_VALUE:
        raise SchemaError({f"{key}.value": f"is {len(value)} characters long; at most {MAX_VALUE} are allowed"})
    if "|" in value or _has_control(value):
        raise SchemaError({f"{key}.value": "must not contain '|' or control characters"})
    label = item.get("label")
    if label is None or label == "":
        label = value
    if not isinstance(label, str) or not label.strip() or len(label.strip()) > MAX_LABEL or _has_control(label):
        raise SchemaError({f"{key}.label": f"must be a text of 1 to {MAX_LABEL} characters"})
    choice = {"value": value, "label": label.strip()}
    color = item.get("color")
    if color not in (None, ""):
        if not isinstance(color, str) or not (color in PALETTE or _HEX.match(color)):
            raise SchemaError({f"{key}.color": f"must be one of {', '.join(PALETTE)} or #rrggbb"})
        choice["color"] = color.lower()
    return choice


def clean_choices(raw: Any) -> list[dict[str, str]]:
    """Validate the ``choices`` option: at least one, values and labels unique."""
    if not isinstance(raw, (list, tuple)) or not raw:
        raise SchemaError({"options.choices": "needs at least one choice"})
    if len(raw) > MAX_CHOICES:
        raise SchemaError({"options.choices": f"has {len(raw)} choices; at most {MAX_CHOICES} are allowed"})
    choices: list[dict[str, str]] = []
    values: set[str] = set()
    labels: set[str] = set()
    for i, item in enumerate(raw):
        key = f"options.choices[{i}]"
        choice = _clean_choice(item, key)
        if choice["value"].casefold() in values:
            raise SchemaError({f"{key}.value": f"'{choice['value']}' is used twice"})
        if choice["label"].casefold() in labels:
            raise SchemaError({f"{key}.label": f"'{choice['label']}' is used twice"})
        values.add(choice["value"].casefold())
        labels.add(choice["label"].casefold())
        choices.append(choice)
    return choices


CHOICE_KEY = "choice."  # a choice label's key among the field's translations: "choice.won"


def choices_of(field, language: str | None = None) -> Sequence[Mapping[str, str]]:
    """The field's choices in their order; with ``language``, labelled in that language
    where the power user translated them (``translations.<language>["choice.<value>"]``)."""
    choices = field.options.get("choices") or ()
    texts = (getattr(field, "translations", None) or {}).get(language or "", {}) if language else {}
    if not texts:
        return choices
    return [{**c, "label": texts.get(CHOICE_KEY + c["value"]) or c.get("label") or c["value"]} for c in choices]


def allowed_text(field, limit: int = 20) -> str:
    values = [c["value"] for c in choices_of(field)]
    return ", ".join(values[:limit]) + (", …" if len(values) > limit else "")


def find_choice(field, raw: Any) -> str:
    """The stored value for ``raw``: a choice's value, or (ignoring case) its label."""
    if isinstance(raw, int) and not isinstance(raw, bool):
        raw = str(raw)
    if not isinstance(raw, str):
        raise FieldValueError(_('must be one of the choices (%(choices)s), not %(value)s',
                                choices=allowed_text(field), value=shown(raw)))
    text = raw.strip()
    choices = choices_of(field)
    for c in choices:
        if c["value"] == text:
            return c["value"]
    folded = text.casefold()
    for attr in ("value", "label"):
        for c in choices:
            if (c.get(attr) or "").casefold() == folded:
                return c["value"]
    for texts in (getattr(field, "translations", None) or {}).values():  # a label in another language
        for c in choices:
            if (texts.get(CHOICE_KEY + c["value"]) or "").casefold() == folded:
                return c["value"]
    raise FieldValueError(_('%(value)s is not one of the choices: %(choices)s', value=shown(raw), choices=allowed_text(field)))


def choices_matching(field, word: str) -> list[str]:
    """Values whose label (what the search document holds) contains ``word``."""
    folded = word.casefold()
    return [c["value"] for c in choices_of(field) if folded in (c.get("label") or c["value"]).casefold()]


def label_of(field, value: str, language: str | None = None) -> str:
    for c in choices_of(field, language):
        if c["value"] == value:
            return c.get("label") or value
    return value  # a value no longer in the list still shows


@register
class ChoiceType(FieldType):
    """A single choice from the field's list."""

    name = "choice"
    label = _l("Choice")
    operators = EQUALITY
    indexed = True
    searchable = True

    options_legend = _l("Choices")
    options = (
        OptionSpec("choices", CHOICE_LIST, required=True, check=clean_choices, label=_l("Choices"),
                   doc="at least one choice: {value, label, color}"),
    )

    def sa_type(self, field) -> sa.types.TypeEngine:
        return sa.String(MAX_VALUE)

    def marshmallow_field(self, field) -> ma.fields.Field:
        return ma.fields.String(allow_none=True, validate=ma.validate.OneOf([c["value"] for c in choices_of(field)]))

    # parse/to_json/convert_from keep FieldType's Any: a choice is a str (or None) here, but
    # MultiChoiceType reuses this class for lists of choices.
    def parse(self, field, raw: Any) -> Any:
        return None if self.is_empty(raw) else find_choice(field, raw)

    def to_json(self, field, value: Any) -> Any:
        return value

    def format(self, field, value: str | None, locale: str = "en") -> str:
        return "" if value is None else label_of(field, value, locale)

    def search_clause(self, field, cols, word: str):
        values = choices_matching(field, word)
        return cols[0].in_(values) if values else None

    def sort_expression(self, field, cols):
        """In the list's order (a pipeline sorts by stage), unknown values last."""
        order = {c["value"]: i for i, c in enumerate(choices_of(field))}
        if not order:
            return cols[0]
        return sa.case(order, value=cols[0], else_=len(order))

    def convert_from(self, field, source, value: Any) -> Any:
        """From a multi-choice: keeps a single choice, refuses several."""
        if isinstance(value, (list, tuple)):
            if len(value) > 1:
                raise FieldValueError(_('has %(count)s choices (%(values)s); only one can be kept',
                                        count=len(value), values=', '.join(map(str, value))))
            return self.parse(field, value[0]) if value else None
        return super().convert_from(field, source, value)
