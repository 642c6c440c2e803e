"""How each computed type calculates: one class per type (a registry keyed by the field
type's name). A definition says which reference paths it depends on (``paths``, for the
dependency graph and for finding the records a change affects), which values it needs
per record (``inputs``, fetched in bulk by ``fetch.Fetcher``), what it computes in SQL
for a whole set of records at once (``gather``: a rollup's GROUP BY), and the value of
one record from those (``value``)."""
from __future__ import annotations

from decimal import Decimal
from typing import Any, Callable, ClassVar, Iterable, Mapping, Sequence

import sqlalchemy as sa
from sqlalchemy import Connection

from ...formula import load_canonical
from ..exact_sums import numeric_aggregate, overflow_fallback
from ..field_types.money import Money, mode_of
from ..field_types.base import FieldValueError
from ..field_types.computed import computed_type
from ..field_types.text import MAX_TEXT
from ..query.filters import condition_for_table
from ..snapshot import FieldInfo, ObjectInfo, Schema
from .keys import KeyPath, Step, make_path, parse_key
from .resolver import SchemaResolver
from .rollup_filter import filter_keys, to_named

ID_CHUNK = 5000
CONCAT_SEPARATOR = ", "
_DEFS: dict[str, type["ComputedDef"]] = {}


def definition(type_name: str) -> Callable[[type["ComputedDef"]], type["ComputedDef"]]:
    def register(cls: type["ComputedDef"]) -> type["ComputedDef"]:
        _DEFS[type_name] = cls
        return cls
    return register


def make_def(schema: Schema, field: FieldInfo, pending: bool = False) -> "ComputedDef":
    """The definition of a computed field (or of its pending next definition)."""
    return _DEFS[field.type](schema, field, pending)


def chunks(ids: Iterable[int], size: int = ID_CHUNK) -> Iterable[list[int]]:
    ids = list(ids)
    for start in range(0, len(ids), size):
        yield ids[start:start + size]


class ComputedDef:
    """One computed field as the engine sees it. ``field`` carries the columns written:
    the field's own, or the shadow columns of a pending definition."""

    paths: tuple[KeyPath, ...] = ()
    inputs: tuple[KeyPath, ...] = ()
    kind: ClassVar[str] = ""

    def __init__(self, schema: Schema, field: FieldInfo, pending: bool):
        self.schema, self.field, self.pending = schema, field, pending
        self.obj: ObjectInfo = schema.object(field.object_id)
        self.key = f"{field.id}~next" if pending else str(field.id)
        result = computed_type(field).result_field()
        if result is None:  # bound from the stored options; their absence is a broken definition
            raise ValueError(f"computed field #{field.id} has no result type")
        self.result: FieldInfo = result
        self.options = field.options

    @property
    def label(self) -> str:
        return f"{self.obj.label}.{self.field.label}"

    def depends_on(self) -> set[str]:
        """Graph edges: the ids of every field this definition reads, as text."""
        return {str(i) for p in self.paths for i in p.field_ids}

    def gather(self, conn: Connection, ids: list[int]) -> Mapping[int, Any]:
        """Values computed in SQL for many records at once (rollups); none by default."""
        return {}

    def value(self, inputs: Mapping[str, Any], gathered: Any) -> Any:  # pragma: no cover - interface
        raise NotImplementedError

    def typed(self, raw: Any) -> Any:
        """A calculated value in the result type, or empty when it does not fit (a number
        too large for the column): a runtime problem never aborts a save."""
        if raw is None:
            return None
        try:
            return self.result.ftype.parse(self.result, raw)
        except FieldValueError:
            return None


MIXED = object()  # a rollup's children are in several currencies


@definition("formula")
class FormulaDef(ComputedDef):
    def __init__(self, schema: Schema, field: FieldInfo, pending: bool):
        super().__init__(schema, field, pending)
        self.compiled = load_canonical(self.options["formula"], SchemaResolver(schema, self.obj))
        self.inputs = tuple(parse_key(schema, self.obj, k) for k in sorted(self.compiled.references))
        self.paths = self.inputs

    def value(self, inputs: Mapping[str, Any], gathered: Any) -> Any:
        values = {}
        currencies: set[str] = set()
        for path in self.inputs:
            raw, f = inputs.get(path.key), path.field
            if path.many:
                values[path.key] = [f.ftype.formula_value(f, v) for v in raw or ()]
                currencies.update(v.currency for v in raw or () if isinstance(v, Money))
            else:
                values[path.key] = f.ftype.formula_value(f, raw)
                if isinstance(raw, Money):
                    currencies.add(raw.currency)
        result = self.compiled.evaluate(values)
        if self.result.type == "money" and result is not None:
            if len(currencies) > 1:
                return None  # amounts in several currencies: no value, never a mixed sum
            code = next(iter(currencies), None) or self.result.options.get("currency") or "EUR"
            return self.typed({"amount": result, "currency": code})
        return self.typed(result)


@definition("lookup")
class LookupDef(ComputedDef):
    def __init__(self, schema: Schema, field: FieldInfo, pending: bool):
        super().__init__(schema, field, pending)
        link = schema.field_by_id(int(self.options["link"]))
        source = schema.field_by_id(int(self.options["field"]))
        step = Step(link, False, self.obj, schema.link_target(link))
        self.inputs = self.paths = (make_path((step,), source, self.obj),)

    def value(self, inputs: Mapping[str, Any], gathered: Any) -> Any:
        return inputs.get(self.inputs[0].key)  # already a value of the looked-up type


@definition("rollup")
class RollupDef(ComputedDef):
    def __init__(self, schema: Schema, field: FieldInfo, pending: bool):
        super().__init__(schema, field, pending)
        opts = self.options
        self.child = schema.object(int(opts["child"]))
        self.link = schema.field_by_id(int(opts["link"]))
        self.source = schema.field_by_id(int(opts["field"])) if opts.get("field") is not None else None
        self.aggregate = opts["aggregate"]
        self.filter = to_named(schema, self.child, opts["filter"]) if opts.get("filter") else None
        step = Step(self.link, True, self.obj, self.child)
        reads = [self.link] + ([self.source] if self.source is not None else [])
        paths = [make_path((step,), f, self.obj) for f in reads]
        paths += [make_path((step,) + p.steps, p.field, self.obj)
                  for p in (parse_key(schema, self.child, k) for k in filter_keys(opts.get("filter")))]
        self.paths = tuple(paths)

    def _where(self, table: sa.Table, ids: list[int]) -> list:
        where: list[sa.ColumnElement] = [table.c[self.link.column].in_(ids), table.c.deleted_at.is_(None)]
        if self.filter:
            condition = condition_for_table(self.schema, self.child, table, self.filter)
            if condition is not None:  # a non-empty filter always gives one
                where.append(condition)
        return where

    def gather(self, conn: Connection, ids: list[int]) -> Mapping[int, Any]:
        return overflow_fallback(lambda: self._gather(conn, ids))  # sums exact on SQLite

    def _gather(self, conn: Connection, ids: list[int]) -> Mapping[int, Any]:
        table = self.schema.table(self.child)
        parent = table.c[self.link.column]
        out: dict[int, Any] = {}
        for chunk in chunks(ids):
            if self.aggregate == "concat":
                self._concat(conn, table, parent, chunk, out)
                continue
            if self.source is not None and self.result.type == "money" and mode_of(self.result.options) == "per_record":
                self._per_currency(conn, table, parent, chunk, out)
                continue
            if self.source is None:
                expr = sa.func.count(table.c.id)
            else:
                column = table.c[self.source.column_names[0]]  # a money field's amount
                expr = numeric_aggregate(conn.dialect.name, self.aggregate, column)  # exact on SQLite too
            stmt = sa.select(parent, expr).where(*self._where(table, chunk)).group_by(parent)
            groups: Sequence[Any] = conn.execute(stmt).all()
            out.update((int(p), v) for p, v in groups)
        return out

    def _per_currency(self, conn, table, parent, ids, out) -> None:
        """Amounts with a currency per record: one figure per parent and currency; a
        parent whose children are in several currencies gets MIXED (shown empty), never
        one number over EUR and USD."""
        source = self.source
        assert source is not None
        amount, currency = (table.c[n] for n in source.column_names[:2])
        expr = numeric_aggregate(conn.dialect.name, self.aggregate, amount)
        stmt = (sa.select(parent, currency, expr).where(*self._where(table, ids), amount.is_not(None))
                .group_by(parent, currency))
        for p, code, value in conn.execute(stmt).all():
            key = int(p)
            out[key] = MIXED if key in out else {"amount": str(value), "currency": code}

    def _concat(self, conn, table, parent, ids, out) -> None:
        """Joined texts as people see them (choice labels, formatted numbers), in the
        children's order of creation: formatted in Python, identical on both engines."""
        f = self.source
        assert f is not None  # a concat rollup always names the field it joins
        cols = [table.c[n] for n in f.column_names]
        stmt = (sa.select(parent, *cols).where(*self._where(table, ids)).order_by(parent, table.c.id))
        texts: dict[int, list[str]] = {}
        for row in conn.execute(stmt):
            shown = f.ftype.format(f, f.ftype.from_db(f, tuple(row[1:])))
            if shown:
                texts.setdefault(int(row[0]), []).append(shown)
        out.update((p, CONCAT_SEPARATOR.join(t)[:MAX_TEXT]) for p, t in texts.items())

    def value(self, inputs: Mapping[str, Any], gathered: Any) -> Any:
        if gathered is MIXED:
            return None  # amounts in several currencies are not added up
        if gathered is None and self.aggregate in ("sum", "count"):
            gathered = Decimal(0) if self.aggregate == "sum" else 0  # the sum of no lines is 0
        return self.typed(gathered)
