"""The contract of a field type. One subclass per type, in a module of its own, owns
everything about that type: physical column(s), marshmallow field (validation and JSON),
filter operators, import parsing, display formatting and conversion from other types.

Adding a type = adding one module with one registered class; no other code changes.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Mapping, Sequence

import marshmallow as ma
import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from ..errors import NotFound
from .options import OptionSpec, _l, clean_declared
from .truth import Truth, t_and, t_compare, t_in, t_not
from ..i18n import _

if TYPE_CHECKING:  # pragma: no cover
    from ..snapshot import FieldInfo


class FieldValueError(ValueError):
    """A value does not fit the field; the message says why (the caller adds the field)."""


@dataclass(frozen=True)
class ColumnSpec:
    """One physical column of a field. ``suffix`` "" is the primary column ``f<id>``."""

    suffix: str
    type: sa.types.TypeEngine
    indexed: bool = False


class OptionContext:
    """What option cleaning may need from the schema (resolving object names to ids)."""

    def object_id(self, name_or_id: Any) -> int:  # pragma: no cover - interface
        raise NotImplementedError

    def object_name(self, object_id: int) -> str:  # pragma: no cover - interface
        raise NotImplementedError


class FieldContext(OptionContext):
    """The context of one field being saved or exported: the whole schema, the object the
    field belongs to and the field's own id (None while it is being added). Types whose
    options refer to other fields (formula, lookup, rollup) need all three."""

    def __init__(self, schema: Any, obj: Any, field_id: int | None = None):
        self.schema, self.obj, self.field_id = schema, obj, field_id

    def object_id(self, name_or_id: Any) -> int:
        """An object by id or API name, else by its label or plural label."""
        try:
            return self.schema.object_id(name_or_id)
        except NotFound:
            if isinstance(name_or_id, str):
                wanted = name_or_id.strip().casefold()
                for o in self.schema.objects:
                    if wanted in (o.label.casefold(), o.label_plural.casefold()):
                        return o.id
            raise

    def object_name(self, object_id: int) -> str:
        return self.schema.object_name(object_id)


# Operators every filter understands; a type declares which of them it supports.
ALL_OPERATORS = (
    "eq", "ne", "lt", "le", "gt", "ge", "between", "in", "not_in",
    "contains", "not_contains", "starts_with", "is_empty", "is_not_empty",
    "today", "this_week", "this_month", "overdue", "next_days", "last_days",
    "has_any", "has_all", "has_none",
)
EQUALITY = ("eq", "ne", "in", "not_in", "is_empty", "is_not_empty")
ORDERED = EQUALITY + ("lt", "le", "gt", "ge", "between")
TEXTUAL = EQUALITY + ("contains", "not_contains", "starts_with")
# Relative to today (query/relative.py rewrites them into ranges before compiling):
# what dates and date-times offer besides ORDERED.
RELATIVE_DATES = ("today", "this_week", "this_month", "overdue", "next_days", "last_days")


def _like_escape(text: str) -> str:
    return re.sub(r"([\\%_])", r"\\\1", text)


class FieldType:
    """Base class. Subclasses set the class attributes and override what differs."""

    name: ClassVar[str] = ""
    label: ClassVar[str] = ""
    # Per instance, not ClassVar: a computed type's bound copy (bind) takes these from its result type.
    operators: tuple[str, ...] = EQUALITY
    value_type: str = "text"  # formula type: text/number/date/datetime/boolean/link/list
    indexed: bool = False  # index the primary column (filter/sort/link columns)
    searchable: bool = False  # contributes to the record's full-text document
    sortable: bool = True  # False: lists and tables do not sort by it
    writable: ClassVar[bool] = True  # False: value computed by the system, never written by users
    system_only: ClassVar[bool] = False  # used only for built-in system fields
    # True: the values live in a table of their own (a multi-link's junction table), not in
    # columns of the record's table; queries hand such a type the record's id as its column.
    stored_apart: ClassVar[bool] = False
    supports_unique: ClassVar[bool] = True
    supports_default: ClassVar[bool] = True
    # Defaults computed when a record is created (a date's "today", a user's "me"), stored
    # as that word in the field's default instead of a fixed value.
    dynamic_defaults: ClassVar[tuple[str, ...]] = ()
    # How a unique field compares values: None = as stored; "lower" = case-insensitively
    # (e-mail). The unique index is then on lower(column), so the database agrees.
    unique_fold: ClassVar[str | None] = None
    # The type's options, declared once (options.py): the check, the API's schema, the
    # configurator's inputs and the solution format all come from this tuple.
    options: ClassVar[tuple[OptionSpec, ...]] = ()
    # The heading of the options in the configurator.
    options_legend: ClassVar[str] = _l("Options")
    # Shown instead of the options when the schema offers nothing to choose from (a lookup
    # on an object without links); %(object)s is the object's label.
    options_empty: ClassVar[str] = ""

    def bind(self, field: "FieldInfo") -> "FieldType":
        """The type object that serves ``field`` (``FieldInfo.ftype``). Plain types serve
        every field themselves; computed types return a per-field object whose operators,
        columns and formatting follow the field's result type."""
        return self

    # ---- options -------------------------------------------------------------------
    def clean_options(self, options: Mapping[str, Any], ctx: OptionContext) -> dict[str, Any]:
        """Validate and normalise the type's options; raise SchemaError naming the option.
        The declaration (``options``) is checked generically, then ``finish_options`` does
        what only the type knows."""
        return self.finish_options(clean_declared(self.options, options, ctx), ctx)

    def finish_options(self, options: dict[str, Any], ctx: OptionContext) -> dict[str, Any]:
        """After the generic check: what cannot be declared (cross-option rules, names
        resolved against the schema). Default: nothing more."""
        return options

    def option_names(self) -> tuple[str, ...]:
        return tuple(spec.name for spec in self.options)

    def option(self, name: str) -> OptionSpec | None:
        return next((spec for spec in self.options if spec.name == name), None)

    def export_options(self, options: Mapping[str, Any], ctx: OptionContext) -> dict[str, Any]:
        """Options in portable form (object names instead of ids) for solutions and the API:
        the declared ones (what an import checks them against)."""
        names = self.option_names()
        return {k: v for k, v in options.items() if k in names}

    def editable_options(self, field: "FieldInfo") -> dict[str, Any]:
        """The options a change that does not mention them keeps (cleaned again on save)."""
        return dict(field.options)

    # ---- physical --------------------------------------------------------------------
    def column_specs(self, field: "FieldInfo") -> list[ColumnSpec]:
        return [ColumnSpec("", self.sa_type(field), indexed=self.indexed or field.unique)]

    def sa_type(self, field: "FieldInfo") -> sa.types.TypeEngine:
        return sa.Text()

    def extra_columns(self, field: "FieldInfo") -> list[tuple[str, sa.types.TypeEngine]]:
        """Physical columns the field keeps besides its own, as (name, type): a computed
        field being recomputed in the background keeps its next values next to the
        current ones until they are swapped in."""
        return []

    def foreign_key(self, field: "FieldInfo", schema) -> str | None:
        """``table.column`` this field's primary column references, if any."""
        return None

    # ---- values ------------------------------------------------------------------------
    def marshmallow_field(self, field: "FieldInfo") -> ma.fields.Field:
        """The marshmallow field that validates input and serialises to JSON."""
        return ma.fields.Raw(allow_none=True)

    def is_empty(self, value: Any) -> bool:
        return value is None or value == "" or value == []

    def parse(self, field: "FieldInfo", raw: Any) -> Any:
        """User input (JSON value or Python value) -> Python value, or FieldValueError."""
        if self.is_empty(raw):
            return None
        try:
            value = field.ma_field.deserialize(raw)
        except ma.ValidationError as exc:
            raise FieldValueError(_flatten(exc.messages)) from None
        return None if self.is_empty(value) else value

    def to_json(self, field: "FieldInfo", value: Any) -> Any:
        if value is None:
            return None
        return field.ma_field._serialize(value, field.api_name, None)

    def to_db(self, field: "FieldInfo", value: Any) -> tuple:
        """Python value -> one DB value per column spec."""
        return (value,)

    def from_db(self, field: "FieldInfo", values: Sequence[Any]) -> Any:
        return values[0]

    def default_value(self, field: "FieldInfo", user_id: int | None = None) -> Any:
        """The value a new record gets: the field's fixed default, or a dynamic one
        ("today", "now", "me") resolved at this moment for this user."""
        default = field.default
        if default is None:
            return None
        if isinstance(default, str) and default in self.dynamic_defaults:
            return self.dynamic_default(field, default, user_id)
        return self.parse(field, default)

    def dynamic_default(self, field: "FieldInfo", word: str, user_id: int | None) -> Any:
        """The value of a dynamic default word; types that declare some override this."""
        return None

    def check_value(self, field: "FieldInfo", value: Any) -> None:
        """Limits of a written value beyond its type (a number's minimum and maximum):
        FieldValueError when the value is outside. Not applied to filter operands."""

    def unique_key(self, field: "FieldInfo", value: Any) -> Any:
        """The value a unique field compares: the stored one, folded like ``unique_fold``."""
        key = self.to_db(field, value)[0]
        return key.lower() if self.unique_fold == "lower" and isinstance(key, str) else key

    def unique_expression(self, field: "FieldInfo", column: Any) -> Any:
        """The SQL expression a unique field compares (and its unique index is on)."""
        return sa.func.lower(column) if self.unique_fold == "lower" else column

    def import_value(self, field: "FieldInfo", text: Any) -> Any:
        """A spreadsheet/CSV cell -> Python value. Default: trimmed text through ``parse``."""
        if isinstance(text, str):
            text = text.strip()
        return self.parse(field, text)

    def formula_value(self, field: "FieldInfo", value: Any) -> Any:
        """The value formulas calculate with (a money field gives its amount)."""
        return value

    def format(self, field: "FieldInfo", value: Any, locale: str = "en") -> str:
        """Display text for lists, documents and exports."""
        return "" if value is None else str(value)

    def search_text(self, field: "FieldInfo", value: Any) -> str | None:
        """Text this value adds to the record's search document (only if ``searchable``)."""
        return None if value is None else self.format(field, value)

    def search_clause(self, field: "FieldInfo", cols: Sequence[ColumnElement], word: str) -> ColumnElement | None:
        """Does the value contain ``word``? Used instead of the shared search document when
        the reader may not see every searchable field (the document holds hidden text).
        Default: the type's own "contains" operator; None means it never matches."""
        if "contains" not in self.operators:
            return None
        try:
            return self.filter_clause(field, cols, "contains", self.filter_value(field, "contains", word))
        except FieldValueError:
            return None

    def convert_from(self, field: "FieldInfo", source: "FieldInfo", value: Any) -> Any:
        """Value of ``source`` (old type) -> value of this type, or FieldValueError.
        Default: through the old type's JSON form, which every type can parse or refuse."""
        if value is None:
            return None
        return self.parse(field, source.ftype.to_json(source, value))

    # ---- querying -----------------------------------------------------------------------
    def sort_expression(self, field: "FieldInfo", cols: Sequence[ColumnElement]) -> ColumnElement:
        return cols[0]

    def filter_value(self, field: "FieldInfo", op: str, value: Any) -> Any:
        """Parse the operand of a filter condition with the type's own rules."""
        if op in ("is_empty", "is_not_empty"):
            return None
        if op in ("in", "not_in"):
            if not isinstance(value, (list, tuple)):
                raise FieldValueError(_("operator '%(op)s' needs a list of values", op=op))
            return [self.parse(field, v) for v in value]
        if op == "between":
            if not isinstance(value, (list, tuple)) or len(value) != 2:
                raise FieldValueError(_("operator 'between' needs a list of two values [from, to]"))
            return [self.parse(field, value[0]), self.parse(field, value[1])]
        if op in ("contains", "not_contains", "starts_with"):
            if value is None or str(value) == "":
                raise FieldValueError(_("operator '%(op)s' needs a text", op=op))
            return str(value)
        parsed = self.parse(field, value)
        if parsed is None and op not in ("eq", "ne"):
            raise FieldValueError(_("operator '%(op)s' needs a value", op=op))
        return parsed

    def filter_clause(self, field: "FieldInfo", cols: Sequence[ColumnElement], op: str, value: Any) -> ColumnElement:
        """SQL condition for ``op``; ``value`` was parsed by ``filter_value``."""
        col = cols[0]
        if op == "eq":
            return col.is_(None) if value is None else col == self._db1(field, value)
        if op == "ne":
            return col.is_not(None) if value is None else sa.or_(col != self._db1(field, value), col.is_(None))
        if op == "lt":
            return col < self._db1(field, value)
        if op == "le":
            return col <= self._db1(field, value)
        if op == "gt":
            return col > self._db1(field, value)
        if op == "ge":
            return col >= self._db1(field, value)
        if op == "between":
            return col.between(self._db1(field, value[0]), self._db1(field, value[1]))
        if op == "in":
            return col.in_([self._db1(field, v) for v in value])
        if op == "not_in":
            return sa.or_(col.not_in([self._db1(field, v) for v in value]), col.is_(None))
        if op == "contains":
            return col.ilike(f"%{_like_escape(value)}%", escape="\\")
        if op == "not_contains":
            return sa.or_(sa.not_(col.ilike(f"%{_like_escape(value)}%", escape="\\")), col.is_(None))
        if op == "starts_with":
            return col.ilike(f"{_like_escape(value)}%", escape="\\")
        if op == "is_empty":
            return self.empty_clause(field, cols)
        if op == "is_not_empty":
            return sa.not_(self.empty_clause(field, cols))
        raise FieldValueError(_("unknown operator '%(op)s'", op=op))  # pragma: no cover - checked earlier

    def empty_clause(self, field: "FieldInfo", cols: Sequence[ColumnElement]) -> ColumnElement:
        return cols[0].is_(None)

    def filter_match(self, field: "FieldInfo", op: str, value: Any, current: Any) -> Truth:
        """The Python twin of ``filter_clause``: does one record whose value is ``current``
        (a Python value of the field) match? True, False or None -- SQL's *unknown*, so
        that NOT, AND and OR combine exactly as in the database (``query/match.py``).
        Compares the values' database form, as the SQL does."""
        col = None if current is None else self._db1(field, current)
        if op in ("is_empty", "is_not_empty"):
            empty = self.empty_match(field, col)
            return empty if op == "is_empty" else not empty
        if op in ("eq", "ne") and value is None:
            return (col is None) if op == "eq" else (col is not None)
        if op in ("eq", "lt", "le", "gt", "ge"):
            return t_compare(col, op, self._db1(field, value))
        if op == "ne":
            return True if col is None else t_compare(col, "ne", self._db1(field, value))
        if op == "between":
            low, high = (None if v is None else self._db1(field, v) for v in value)
            return t_and([t_compare(col, "ge", low), t_compare(col, "le", high)])
        if op in ("in", "not_in"):
            inside = t_in(col, [None if v is None else self._db1(field, v) for v in value])
            return inside if op == "in" else (True if col is None else t_not(inside))
        if op in ("contains", "not_contains", "starts_with"):
            if col is None:
                return True if op == "not_contains" else None
            text, part = str(col).lower(), value.lower()
            if op == "starts_with":
                return text.startswith(part)
            return (part in text) if op == "contains" else (part not in text)
        raise FieldValueError(_("unknown operator '%(op)s'", op=op))  # pragma: no cover - checked earlier

    def empty_match(self, field: "FieldInfo", stored: Any) -> bool:
        """``empty_clause`` for one stored (database) value."""
        return stored is None

    def _db1(self, field: "FieldInfo", value: Any) -> Any:
        return self.to_db(field, value)[0]


def _flatten(messages: Any) -> str:
    if isinstance(messages, dict):
        return " ".join(_flatten(v) for v in messages.values())
    if isinstance(messages, (list, tuple)):
        return " ".join(_flatten(m) for m in messages)
    return _marshmallow_message(str(messages))


# Marshmallow's own messages (it does not translate), as ours: the same English, in the
# language in force. A message not listed here passes through unchanged.
_MARSHMALLOW_MESSAGES = (
    (re.compile(r"Longer than maximum length (\d+)\."),
     lambda m: _("Longer than maximum length %(max)s.", max=m[1])),
    (re.compile(r"Must be one of: (.*)\."), lambda m: _("Must be one of: %(choices)s.", choices=m[1])),
    (re.compile(r"Not a valid string\."), lambda m: _("Not a valid string.")),
    (re.compile(r"Not a valid email address\."), lambda m: _("Not a valid email address.")),
    (re.compile(r"Not a valid list\."), lambda m: _("Not a valid list.")),
)


def _marshmallow_message(text: str) -> str:
    for pattern, translated in _MARSHMALLOW_MESSAGES:
        match = pattern.fullmatch(text)
        if match:
            return translated(match)
    return text
