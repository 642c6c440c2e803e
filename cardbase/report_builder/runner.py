"""Running a report: the definition compiled into ONE grouped query through the engine
session (purpose "report"), then folded into a pivot.

The query is the query compiler's aggregate (``Session.aggregate``), so the viewer's
record scope, rule views and field mask apply exactly as in lists: a hidden field can be
neither a group nor a measure (refused naming the path, as if it did not exist), and rows
the viewer may not see are not counted. Money measures add their field's currency as a
group, so amounts stay per currency. Cells, subtotals and totals are folded from the
finest groups in Python (``figures.py``), never by a second query.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Iterable, Iterator

from cardbase.schema_engine.errors import ValidationError
from cardbase.schema_engine.query.aggregate import NUMERIC_VALUE_TYPES
from cardbase.schema_engine.query.model import MAX_GROUP_BY, AggregateQuery
from cardbase.schema_engine.query.paths import Path, resolve
from cardbase.schema_engine.snapshot import FieldInfo, ObjectInfo
from cardbase.schema_engine.values import LinkRef

from .definition import Group, Measure, ReportDefinition
from .figures import Accumulator, CurrencyPolicy, PerCurrency, accumulator, percent
from .result_cache import cached_run

if TYPE_CHECKING:  # pragma: no cover
    from cardbase.schema_engine.store.session import Session

MAX_RESULT_GROUPS = 10_000
Key = tuple[Any, ...]


@dataclass
class GroupSpec:
    """A row or column group resolved against the schema."""

    group: Group
    path: Path
    name: str  # its key in the aggregate's rows

    @property
    def field(self) -> FieldInfo:
        return self.path.field


@dataclass
class MeasureSpec:
    measure: Measure
    path: Path | None
    money: bool
    currency_key: str | None  # the aggregate's key of its currency group
    atoms: list[str]  # the aggregate's metric keys it reads (avg: sum and count)

    @property
    def field(self) -> FieldInfo | None:
        return self.path.field if self.path is not None else None


@dataclass
class ReportResult:
    """A pivot: row and column keys in order, per-cell figures (one per measure), totals."""

    definition: ReportDefinition
    obj: ObjectInfo
    rows: list[GroupSpec]
    columns: list[GroupSpec]
    measures: list[MeasureSpec]
    row_keys: list[Key]
    column_keys: list[Key]
    cells: dict[tuple[Key, Key], list[Any]]
    row_totals: dict[Key, list[Any]]
    column_totals: dict[Key, list[Any]]
    total: list[Any]
    subtotals: dict[tuple[Key, Key | None], list[Any]] = field(default_factory=dict)
    filter: dict | None = None  # the filter the figures were computed with
    problems: list[str] = field(default_factory=list)
    raw_total: list[Any] = field(default_factory=list)  # before percentages

    @property
    def empty(self) -> bool:
        return not self.cells

    def cell(self, row: Key, column: Key) -> list[Any]:
        return self.cells.get((row, column)) or [None] * len(self.measures)

    def drill_filter(self, row: Key | None = None, column: Key | None = None) -> dict | None:
        """The filter matching exactly the records behind a figure (a cell, a row or
        column total, or the grand total with both None)."""
        from .drill import group_condition
        parts: list[dict] = [self.filter] if self.filter else []
        for specs, key in ((self.rows, row), (self.columns, column)):
            if key is None:
                continue
            for spec, value in zip(specs, key):
                parts.append(group_condition(spec, value))
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else {"and": parts}


def combined_filter(*trees: dict | None) -> dict | None:
    parts = [t for t in trees if t]
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else {"and": parts}


def compile_report(session: "Session", definition: ReportDefinition) -> tuple[
        ObjectInfo, list[GroupSpec], list[GroupSpec], list[MeasureSpec], list[Any], list[dict]]:
    """Resolve the paths for the session's viewer and build the aggregate's groups and metrics."""
    obj = session.require_purpose(definition.object, "report")
    readable = session.access.field_readable(obj)
    schema = session.schema

    def path_of(text: str, key: str) -> Path:
        return resolve(schema, obj, text, field_allowed=readable, key=key)

    rows = [GroupSpec(g, path_of(g.field, f"rows.{i}.field"), f"r{i}") for i, g in enumerate(definition.rows)]
    columns = [GroupSpec(g, path_of(g.field, f"columns.{i}.field"), f"c{i}") for i, g in enumerate(definition.columns)]
    for key, specs in (("rows", rows), ("columns", columns)):
        for i, spec in enumerate(specs):
            if spec.group.bucket and spec.field.ftype.value_type not in ("date", "datetime"):
                raise ValidationError({f"{key}.{i}.bucket": f"'{spec.group.field}' is a {spec.field.type} field; "
                                                            "only dates and times are grouped by day, week, month, "
                                                            "quarter or year"})
    group_by: list[Any] = [_group_item(spec) for spec in rows + columns]
    metrics: list[dict] = []
    measures: list[MeasureSpec] = []
    currencies: dict[str, str] = {}
    for i, m in enumerate(definition.measures):
        key = f"measures.{i}.field"
        path = path_of(m.field, key) if m.field else None
        f = path.field if path is not None else None
        if m.op in ("sum", "avg") and f is not None and f.ftype.value_type not in NUMERIC_VALUE_TYPES:
            raise ValidationError({key: f"'{m.field}': '{m.op}' needs a number, money, formula or rollup field, "
                                        f"not a {f.type} field"})
        if m.op in ("min", "max") and f is not None and "lt" not in f.ftype.operators:
            raise ValidationError({key: f"'{m.field}': a {f.type} field has no order, so no {m.op}"})
        money = f is not None and f.type == "money" and not f.system and m.op not in ("count", "count_distinct")
        currency_key = None
        if money and path is not None:
            currency_key = currencies.get(path.text)
            if currency_key is None:
                currency_key = currencies[path.text] = f"cur{len(currencies)}"
                group_by.append({"field": path.text, "part": "currency", "as": currency_key})
        name = f"m{i}"
        if m.weight:
            weight = path_of(m.weight, f"measures.{i}.weight")
            if weight.field.type != "integer":
                raise ValidationError({f"measures.{i}.weight": f"'{m.weight}' is a {weight.field.type} field; a weight "
                                                               "is a whole-number percentage field"})
            metrics.append({"op": "sum", "field": m.field, "weight": m.weight, "as": name})
            atoms = [name]
        elif m.op == "avg":
            metrics += [{"op": "sum", "field": m.field, "as": name}, {"op": "count", "field": m.field, "as": name + "n"}]
            atoms = [name, name + "n"]
        else:
            metrics.append({"op": m.op, "field": m.field, "as": name} if m.field else {"op": "count", "as": name})
            atoms = [name]
        measures.append(MeasureSpec(m, path, money, currency_key, atoms))
    if len(group_by) > MAX_GROUP_BY:
        raise ValidationError({"measures": f"the groups and the currencies of {len(currencies)} money fields make "
                                           f"{len(group_by)} groups; at most {MAX_GROUP_BY} are allowed"})
    if currencies and any(m.measure.op == "count_distinct" for m in measures):
        raise ValidationError({"measures": "count distinct cannot be combined with sums, averages, minimums or "
                                           "maximums of money in one report (money is split by currency)"})
    return obj, rows, columns, measures, group_by, metrics


def _group_item(spec: GroupSpec) -> Any:
    if spec.group.bucket:
        return {"field": spec.path.text, "bucket": spec.group.bucket, "as": spec.name}
    return {"field": spec.path.text, "as": spec.name}


def run_report(session: "Session", definition: ReportDefinition, *, filter: dict | None = None,
               policy: CurrencyPolicy | None = None, limit: int = MAX_RESULT_GROUPS,
               cache: bool = True) -> ReportResult:
    """Run ``definition`` for the session's viewer; ``filter`` narrows it further (the
    page's live filters, an API caller's override). The statement is built (and the
    viewer's rights checked) on every call; its figures come from the process's result
    cache when nothing they depend on has changed (``result_cache``)."""
    policy = policy or PerCurrency()
    obj, rows, columns, measures, group_by, metrics = compile_report(session, definition)
    where = combined_filter(definition.filter, filter)
    with _engine_errors():
        prepared = session.prepare_aggregate(
            obj, AggregateQuery(group_by=group_by, metrics=metrics, filter=where, limit=limit), purpose="report")

    def compute() -> ReportResult:
        with _engine_errors():
            data = prepared.run(session.conn)
        return _fold(definition, obj, rows, columns, measures, data, where, policy)

    if not cache:
        return compute()
    return cached_run(session, definition, where, policy, prepared, compute)


@contextmanager
def _engine_errors() -> Iterator[None]:
    """The aggregate's error keys as the definition's (filter, rows)."""
    try:
        yield
    except ValidationError as exc:
        raise ValidationError({("filter" if k == "filter" else "rows" if k == "group_by" else k): v
                               for k, v in exc.errors.items()}) from None


def _norm(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def _fold(definition: ReportDefinition, obj: ObjectInfo, rows: list[GroupSpec], columns: list[GroupSpec],
          measures: list[MeasureSpec], data: list[dict[str, Any]], where: dict | None,
          policy: CurrencyPolicy) -> ReportResult:
    accs: dict[tuple, list[Accumulator]] = {}

    def target(key: tuple) -> list[Accumulator]:
        found = accs.get(key)
        if found is None:
            found = accs[key] = [accumulator(m.measure.op, m.money, policy) for m in measures]
        return found

    row_keys: dict[Key, None] = {}
    column_keys: dict[Key, None] = {}
    for record in data:
        rkey = tuple(_norm(record[s.name]) for s in rows)
        ckey = tuple(_norm(record[s.name]) for s in columns)
        row_keys.setdefault(rkey, None)
        column_keys.setdefault(ckey, None)
        targets: list[tuple[Any, ...]] = [("cell", rkey, ckey), ("row", rkey), ("col", ckey), ("all",)]
        if definition.subtotals:
            for k in range(1, len(rows)):
                targets += [("sub", rkey[:k], ckey), ("sub", rkey[:k], None)]
        for t in targets:
            for acc, m in zip(target(t), measures):
                acc.add(tuple(record[a] for a in m.atoms), record.get(m.currency_key) if m.currency_key else None)

    def values(key: tuple) -> list[Any]:
        found = accs.get(key)
        return [a.value() for a in found] if found else [None] * len(measures)

    total = values(("all",))
    if not data:  # zero records: counted, they are 0; other figures have no value
        total = [0 if m.measure.op == "count" or (m.measure.op == "count_distinct" and not (rows or columns))
                 else None for m in measures]
    problems: list[str] = []

    def shown(figures: list[Any]) -> list[Any]:
        return [percent(v, t) if m.measure.percent else v for v, t, m in zip(figures, total, measures)]

    for i, m in enumerate(measures):
        if m.measure.percent and (total[i] is None or total[i] == 0):
            problems.append(f"measure {i + 1}: the total is empty, so there is no percentage of it")
        if m.measure.op == "count_distinct" and (rows or columns):
            problems.append(f"measure {i + 1}: distinct counts do not add up, so totals of them are left empty")
    ordered_columns = sorted(column_keys, key=lambda k: _order_key(columns, k))
    ordered_rows = _sort_rows(definition, list(row_keys), rows, values, measures)
    if definition.top is not None:
        ordered_rows = ordered_rows[:definition.top]
    result = ReportResult(
        definition=definition, obj=obj, rows=rows, columns=columns, measures=measures,
        row_keys=ordered_rows, column_keys=ordered_columns,
        cells={(r, c): shown(values(("cell", r, c))) for r in ordered_rows for c in ordered_columns
               if ("cell", r, c) in accs},
        row_totals={r: shown(values(("row", r))) for r in ordered_rows},
        column_totals={c: shown(values(("col", c))) for c in ordered_columns},
        total=shown(total), filter=where, problems=problems, raw_total=total)
    if definition.subtotals:
        result.subtotals = {(key[1], key[2]): shown(values(key)) for key in accs if key[0] == "sub"}
    return result


def _order_key(specs: list[GroupSpec], key: Key) -> tuple:
    return tuple(_value_order(spec, value) for spec, value in zip(specs, key))


def _value_order(spec: GroupSpec, value: Any) -> tuple:
    """The SQL order of a group (choices in list order, links by display), empty last."""
    if value is None:
        return (1, 0, "")
    f = spec.field
    if spec.group.bucket is None and f.type == "choice":
        values = [c.get("value") if isinstance(c, dict) else c for c in f.options.get("choices", [])]
        return (0, values.index(value) if value in values else len(values), str(value))
    if isinstance(value, LinkRef):
        return (0, 0, ((value.display or "").casefold(), value.id))
    if isinstance(value, (int, Decimal, float)) and not isinstance(value, bool):
        return (0, 0, value)
    return (0, 0, str(value) if not hasattr(value, "isoformat") else value.isoformat())


def _magnitude(value: Any) -> Decimal | None:
    """A figure as one number for sorting (money: its currencies' amounts added)."""
    if value is None:
        return None
    if isinstance(value, dict):
        return sum((Decimal(v) for v in value.values() if v is not None), Decimal(0))
    return Decimal(value)


def _sort_rows(definition: ReportDefinition, keys: list[Key], rows: list[GroupSpec], values: Any,
               measures: list[MeasureSpec]) -> list[Key]:
    sort = definition.sort
    descending = bool(sort.get("descending"))
    if sort.get("by") == "measure" and measures:
        index = sort.get("measure", 0)

        def figure(key: Key) -> tuple:
            number = _magnitude(values(("row", key))[index])
            if number is None:
                return (1, Decimal(0))
            return (0, -number if descending else number)
        return sorted(keys, key=figure)
    ordered = sorted(keys, key=lambda k: _order_key(rows, k))
    return list(reversed(ordered)) if descending else ordered


def iter_cells(result: ReportResult) -> Iterable[tuple[Key, Key, list[Any]]]:
    for r in result.row_keys:
        for c in result.column_keys:
            yield r, c, result.cell(r, c)
