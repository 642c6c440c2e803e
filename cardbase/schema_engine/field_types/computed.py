"""What formula, lookup and rollup fields share: their values are calculated by the system
and stored in real columns shaped like their *result* (a number, a text, a date, or a copy
of the looked-up field's type), so they sort, filter, search and report like any field.

The options hold the definition by ids plus two derived keys, recomputed on every save:
``result`` ({"type": <field type>, "options": {...}}) - the shape of the values, and
``references`` - every field id the definition reads (what ``usage.py`` looks for). While
a changed definition is recomputed in the background, ``pending`` holds the next options
and the values are computed into shadow columns (``extra_columns``) until the swap.

``bind`` gives each field its own type object that forwards everything value-related to
the result type (``result_field``): a lookup of a money field filters, sorts and formats
like money, a number formula like a decimal.
"""
from __future__ import annotations

import copy
import dataclasses
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Mapping, Protocol, Sequence

import marshmallow as ma
import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from ...formula import Resolver
from ..errors import SchemaError
from .base import EQUALITY, ColumnSpec, FieldContext, FieldType, FieldValueError, OptionContext
from .options import clean_declared
from ..i18n import _

if TYPE_CHECKING:  # pragma: no cover
    from ..snapshot import FieldInfo

RESULT, REFERENCES, PENDING = "result", "references", "pending"
DERIVED_KEYS = (RESULT, REFERENCES, PENDING)
SHADOW_SUFFIX = "_next"  # column f12 is recomputed into f12__next (money: f12__next_currency)
NUMBER_PRECISION = 28
MAX_SCALE = 10


class ReferenceSupport(Protocol):
    """What formula and rollup options need from the layers above the field types: names
    in a formula resolved against the schema (``computed.resolver``) and a rollup's
    condition checked with the query compiler (``computed.rollup_filter``). The field types
    sit below the snapshot and the query compiler (tests/test_layering.py), so they cannot
    import those; ``cardbase.schema_engine.computed`` installs its implementation when it is
    imported (``computed/support.py``), as the record store and the schema service do."""

    def formula_resolver(self, schema: Any, obj: Any) -> Resolver: ...

    def condition_to_stored(self, schema: Any, child: Any, tree: Any) -> dict | None: ...

    def condition_to_named(self, schema: Any, child: Any, tree: Any) -> Any: ...

    def condition_keys(self, tree: Any) -> list[str]: ...


_support: ReferenceSupport | None = None


def install_reference_support(support: ReferenceSupport) -> None:
    global _support
    _support = support


def reference_support() -> ReferenceSupport:
    if _support is None:
        raise RuntimeError("formula and rollup options need cardbase.schema_engine.computed: import it first "
                           "(the record store and the schema service do)")
    return _support


def is_computed(field: "FieldInfo") -> bool:
    return isinstance(field.ftype, ComputedType)


def computed_type(field: "FieldInfo") -> "ComputedType":
    """``field.ftype`` of a field known to be computed (TypeError for any other)."""
    ftype = field.ftype
    if not isinstance(ftype, ComputedType):
        raise TypeError(f"field {field.api_name!r} is not a computed field")
    return ftype


def decimal_result(scale: int) -> dict[str, Any]:
    return {"type": "decimal", "options": {"precision": NUMBER_PRECISION, "scale": scale}}


def plain_result(type_name: str) -> dict[str, Any]:
    return {"type": type_name, "options": {}}


def result_of(field: "FieldInfo") -> dict[str, Any]:
    """The shape a copy of ``field``'s values has: its own type, or for a computed field
    the type of its result (so a lookup of a lookup is still a plain type)."""
    if is_computed(field):
        result = field.options.get(RESULT)
        if not isinstance(result, Mapping):
            raise SchemaError({"options": f"field '{field.label}' has no result type yet"})
        return {"type": result["type"], "options": dict(result.get("options") or {})}
    return {"type": field.type, "options": {k: v for k, v in field.options.items()}}


def number_scale(field: "FieldInfo") -> int:
    """Decimal places of a number field's values (integers 0), read from its column."""
    column = field.column_specs[0].type
    if isinstance(column, sa.Integer):
        return 0
    scale = getattr(column, "scale", None)
    return 2 if scale is None else int(scale)


def field_context(ctx: OptionContext, type_name: str) -> FieldContext:
    if not isinstance(ctx, FieldContext):
        raise SchemaError({"options": f"a {type_name} field can only be defined on an object "
                                      "(its options refer to the object's fields)"})
    return ctx


def without_derived(options: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in options.items() if k not in DERIVED_KEYS}


def check_scale(options: Mapping[str, Any], result_type: str) -> int | None:
    """The "scale" option: decimal places a number result is rounded to (default 2)."""
    if "scale" not in options or options["scale"] is None:
        return 2 if result_type == "number" else None
    scale = options["scale"]
    if result_type != "number":
        raise SchemaError({"options.scale": "only a field with a number result has decimal places"})
    if isinstance(scale, bool) or not isinstance(scale, int) or not 0 <= scale <= MAX_SCALE:
        raise SchemaError({"options.scale": f"must be a whole number from 0 to {MAX_SCALE}"})
    return scale


def user_field(obj: Any, ref: Any, key: str, what: str) -> "FieldInfo":
    """A field of ``obj`` named by id, API name or label (case-insensitive)."""
    if isinstance(ref, str) and ref.strip().isdigit():
        ref = int(ref.strip())
    for f in obj.fields:
        if isinstance(ref, int) and not isinstance(ref, bool):
            if f.id == ref:
                return f
        elif isinstance(ref, str) and (f.api_name == ref or f.label.casefold() == ref.strip().casefold()):
            return f
    if ref is None or ref == "":
        raise SchemaError({key: f"is required: {what}"})
    raise SchemaError({key: f"object '{obj.label}' has no field '{ref}'"})


class ComputedType(FieldType):
    """Base of the computed types. The registered instance serves option handling; each
    field gets a bound copy (``bind``) that knows its result field."""

    writable = False
    supports_default = False
    supports_unique = False
    operators: tuple[str, ...] = EQUALITY  # the bound copy uses its result type's operators
    _result: "FieldInfo | None" = None

    # ---- binding --------------------------------------------------------------------------
    def bind(self, field: "FieldInfo") -> FieldType:
        result = field.options.get(RESULT)
        if not isinstance(result, Mapping):
            return self
        # the snapshot's FieldInfo class, taken from the field: snapshot imports the field types
        shape = type(field)(id=field.id, object_id=field.object_id, api_name=field.api_name,
                          label=field.label, type=result["type"], column=field.column,
                          options=MappingProxyType(dict(result.get("options") or {})))
        bound = copy.copy(self)
        bound._result = shape
        target = shape.ftype
        bound.operators = target.operators
        bound.value_type = target.value_type
        bound.searchable = target.searchable
        bound.indexed = target.indexed
        bound.sortable = target.sortable
        return bound

    def result_field(self) -> "FieldInfo | None":
        """The synthetic field of the result type (same id and column) values follow."""
        return self._result

    # ---- options ----------------------------------------------------------------------------
    def editable_options(self, field: "FieldInfo") -> dict[str, Any]:
        pending = field.options.get(PENDING)
        return without_derived(pending if isinstance(pending, Mapping) else field.options)

    def clean_options(self, options: Mapping[str, Any], ctx: OptionContext) -> dict[str, Any]:
        """Only on an object's field; derived keys a client sent back are dropped, anything
        else is checked against the declaration, then ``finish_options`` resolves it."""
        fctx = field_context(ctx, self.name)
        if not isinstance(options, Mapping):
            raise SchemaError({"options": "must be an object"})
        return self.finish_options(clean_declared(self.options, without_derived(options), ctx), fctx)

    # ---- background recalculation -------------------------------------------------------------
    def pending_field(self, field: "FieldInfo") -> "FieldInfo | None":
        """The next definition being computed into shadow columns, as a field, or None."""
        pending = field.options.get(PENDING)
        if not isinstance(pending, Mapping):
            return None
        return dataclasses.replace(field, options=MappingProxyType(dict(pending)),
                                   column=field.column + "_" + SHADOW_SUFFIX)

    def extra_columns(self, field: "FieldInfo") -> list[tuple[str, sa.types.TypeEngine]]:
        shadow = self.pending_field(field)
        if shadow is None:
            return []
        return [(name, spec.type) for spec, name in zip(shadow.column_specs, shadow.column_names)]

    # ---- values: forwarded to the result type ---------------------------------------------------
    def column_specs(self, field: "FieldInfo") -> list[ColumnSpec]:
        r = self._result
        return r.ftype.column_specs(r) if r is not None else [ColumnSpec("", sa.Text())]

    def marshmallow_field(self, field: "FieldInfo") -> ma.fields.Field:
        r = self._result
        return r.ftype.marshmallow_field(r) if r is not None else ma.fields.Raw(allow_none=True)

    def is_empty(self, value: Any) -> bool:
        r = self._result
        return r.ftype.is_empty(value) if r is not None else super().is_empty(value)

    def parse(self, field: "FieldInfo", raw: Any) -> Any:
        r = self._result
        if r is not None:
            return r.ftype.parse(r, raw)
        if self.is_empty(raw):
            return None
        raise FieldValueError(_("is calculated by the system"))

    def import_value(self, field: "FieldInfo", text: Any) -> Any:
        r = self._result
        return r.ftype.import_value(r, text) if r is not None else super().import_value(field, text)

    def to_json(self, field: "FieldInfo", value: Any) -> Any:
        r = self._result
        return r.ftype.to_json(r, value) if r is not None and value is not None else value

    def to_db(self, field: "FieldInfo", value: Any) -> tuple:
        r = self._result
        return r.ftype.to_db(r, value) if r is not None else (value,)

    def from_db(self, field: "FieldInfo", values: Sequence[Any]) -> Any:
        r = self._result
        return r.ftype.from_db(r, values) if r is not None else values[0]

    def formula_value(self, field: "FieldInfo", value: Any) -> Any:
        r = self._result
        return r.ftype.formula_value(r, value) if r is not None else value

    def format(self, field: "FieldInfo", value: Any, locale: str = "en") -> str:
        r = self._result
        return r.ftype.format(r, value, locale) if r is not None else super().format(field, value, locale)

    def search_text(self, field: "FieldInfo", value: Any) -> str | None:
        r = self._result
        return r.ftype.search_text(r, value) if r is not None else None

    def convert_from(self, field: "FieldInfo", source: "FieldInfo", value: Any) -> Any:
        r = self._result
        return r.ftype.convert_from(r, source, value) if r is not None else None

    def sort_expression(self, field: "FieldInfo", cols: Sequence[ColumnElement]) -> ColumnElement:
        r = self._result
        return r.ftype.sort_expression(r, cols) if r is not None else cols[0]

    def filter_value(self, field: "FieldInfo", op: str, value: Any) -> Any:
        r = self._result
        return r.ftype.filter_value(r, op, value) if r is not None else super().filter_value(field, op, value)

    def filter_clause(self, field: "FieldInfo", cols: Sequence[ColumnElement], op: str, value: Any) -> ColumnElement:
        r = self._result
        if r is not None:
            return r.ftype.filter_clause(r, cols, op, value)
        return super().filter_clause(field, cols, op, value)

    def search_clause(self, field: "FieldInfo", cols: Sequence[ColumnElement], word: str) -> ColumnElement | None:
        r = self._result
        return r.ftype.search_clause(r, cols, word) if r is not None else None

    def empty_clause(self, field: "FieldInfo", cols: Sequence[ColumnElement]) -> ColumnElement:
        r = self._result
        return r.ftype.empty_clause(r, cols) if r is not None else super().empty_clause(field, cols)

    def filter_match(self, field: "FieldInfo", op: str, value: Any, current: Any):
        r = self._result
        return r.ftype.filter_match(r, op, value, current) if r is not None else \
            super().filter_match(field, op, value, current)

    def empty_match(self, field: "FieldInfo", stored: Any) -> bool:
        r = self._result
        return r.ftype.empty_match(r, stored) if r is not None else super().empty_match(field, stored)
