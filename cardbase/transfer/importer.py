"""Spreadsheet import: the file streamed in chunks, each chunk's cells parsed per field type
in the file's locale, links resolved, rows matched to existing records by a key (update,
upsert), duplicates grouped on normalised keys, and the rows written as ImportOps through
the store's one change pipeline.

Two ways to treat bad rows: ``atomic`` (all or nothing: one transaction; any bad row and
nothing is written) or good rows only (each chunk commits with the job's progress in the
same transaction, so after a crash the job says exactly what was written, and the bad rows
go to an XLSX file with an error column). A dry run does everything and rolls it back."""
from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field as dc_field
from typing import Any, Mapping, Protocol, Sequence

import sqlalchemy as sa
from sqlalchemy import Connection

from ..schema_engine.actor import Actor
from ..schema_engine.errors import ValidationError
from ..schema_engine.field_types import FieldValueError
from ..schema_engine.snapshot import FieldInfo, ObjectInfo
from ..schema_engine.store.operations import MAX_BULK
from ..schema_engine.store.serialize import value_to_json
from ..schema_engine.store.session import Session
from ..schema_engine.store.validation import BulkValidationError
from ..schema_engine.i18n import _
from .cells import LOCALES, FileFormat, read_cell
from .links import resolve_links
from .mapping import check_mapping, column_names, detect_header, normalise
from .ops import ImportOp
from .readers import Sheet
from .bad_rows import BadRows

MODES = ("create", "update", "upsert")
DUPLICATE_ACTIONS = ("skip", "update", "create")
MAX_ERRORS = 1000
MAX_GROUPS = 1000
PREVIEW_ROWS = 20
ANALYZE_AFTER_ROWS = 10_000  # rows written by one import after which the planner statistics are refreshed


class ImportCancelled(Exception):
    """The job was cancelled between two chunks."""


class ImportFailed(ValidationError):
    """An all-or-nothing import met bad rows: nothing was written."""

    def __init__(self, result: "ImportResult"):
        self.result = result
        first = "; ".join(f"line {e['line']}, {e['column'] or e['field']}: {e['message']}" for e in result.errors[:5])
        super().__init__({"rows": f"{result.failed} row(s) have errors; nothing was written"},
                         message=f"{result.failed} row(s) have errors; nothing was written: {first}")

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "import": self.result.to_json()}


class Progress(Protocol):
    """Where a run reports: ``checkpoint`` runs inside each committed chunk's transaction."""

    def cancelled(self) -> bool: ...

    def live(self, result: "ImportResult", line: int) -> None: ...

    def checkpoint(self, conn: Connection, result: "ImportResult", line: int) -> None: ...


class NoProgress:
    def cancelled(self) -> bool:
        return False

    def live(self, result: "ImportResult", line: int) -> None:
        pass

    def checkpoint(self, conn: Connection, result: "ImportResult", line: int) -> None:
        pass


@dataclass
class ImportSettings:
    """What the user chose: column -> field, mode and key, bad-row handling, the file's
    locale and phone region, the header line, and the duplicate rules with a decision per group."""

    mapping: dict[str, str]
    mode: str = "create"
    key: list[str] = dc_field(default_factory=lambda: ["code"])
    atomic: bool = True
    locale: str = "auto"
    region: str | None = None
    header_row: int | None = None
    duplicate_rules: list[list[str]] = dc_field(default_factory=list)
    duplicate_actions: dict[str, str] = dc_field(default_factory=dict)
    duplicate_default: str = "skip"

    @classmethod
    def from_json(cls, data: Any) -> "ImportSettings":
        """Settings from an API or form document, every problem named by its key."""
        if not isinstance(data, Mapping):
            raise ValidationError({"settings": _("must be an object")})
        errors: dict[str, str] = {}
        mapping = data.get("mapping") or {}
        if not isinstance(mapping, Mapping):
            errors["mapping"] = _("must be an object of column name -> field name")
        mode = data.get("mode", "create")
        if mode not in MODES:
            errors["mode"] = _("must be one of %(choices)s", choices=", ".join(MODES))
        key = data.get("key", ["code"])
        if isinstance(key, str):
            key = [key]
        if not isinstance(key, list) or not key or not all(isinstance(k, str) for k in key):
            errors["key"] = _("must be a field name or a list of field names")
        locale = data.get("locale", "auto")
        if locale not in LOCALES:
            errors["locale"] = _("must be one of %(choices)s", choices=", ".join(LOCALES))
        region = data.get("region") or None
        if region is not None:
            try:
                FileFormat(region=region)
            except ValueError:
                errors["region"] = _("%(region)s is not a region: use a two-letter country code such as DE, AT, US",
                                     region=repr(region))
        header = data.get("header_row")
        if header is not None and (isinstance(header, bool) or not isinstance(header, int) or header < 1):
            errors["header_row"] = _("must be the line number of the header (1 or more)")
        rules = data.get("duplicate_rules", [])
        if not isinstance(rules, list) or not all(
                isinstance(r, list) and r and all(isinstance(f, str) for f in r) for r in rules):
            errors["duplicate_rules"] = _('must be a list of field lists, e.g. [["email"], ["name", "city"]]')
        actions = data.get("duplicate_actions", {})
        if not isinstance(actions, Mapping) or any(a not in DUPLICATE_ACTIONS for a in actions.values()):
            errors["duplicate_actions"] = _("must map group keys to one of %(choices)s", choices=", ".join(DUPLICATE_ACTIONS))
        default = data.get("duplicate_default", "skip")
        if default not in DUPLICATE_ACTIONS:
            errors["duplicate_default"] = _("must be one of %(choices)s", choices=", ".join(DUPLICATE_ACTIONS))
        atomic = data.get("atomic", True)
        if not isinstance(atomic, bool):
            errors["atomic"] = _("must be true (all or nothing) or false (import the good rows)")
        if errors:
            raise ValidationError(errors)
        return cls(dict(mapping), mode, list(key), atomic, locale, region, header, [list(r) for r in rules],
                   dict(actions), default)

    def to_json(self) -> dict[str, Any]:
        return {"mapping": self.mapping, "mode": self.mode, "key": self.key, "atomic": self.atomic,
                "locale": self.locale, "region": self.region, "header_row": self.header_row,
                "duplicate_rules": self.duplicate_rules, "duplicate_actions": self.duplicate_actions,
                "duplicate_default": self.duplicate_default}


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    skipped: int = 0
    failed: int = 0
    rows: int = 0
    errors: list[dict[str, Any]] = dc_field(default_factory=list)
    groups: dict[str, dict[str, Any]] = dc_field(default_factory=dict)
    preview: list[dict[str, Any]] = dc_field(default_factory=list)
    columns: list[str] = dc_field(default_factory=list)
    warnings: list[str] = dc_field(default_factory=list)
    header_line: int = 0
    bad_rows_file: str | None = None
    dry_run: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"created": self.created, "updated": self.updated, "skipped": self.skipped, "failed": self.failed,
                "rows": self.rows, "errors": self.errors, "header_line": self.header_line, "columns": self.columns,
                "warnings": self.warnings, "preview": self.preview, "dry_run": self.dry_run,
                "duplicate_groups": [g for g in self.groups.values() if g["size"] > 1][:MAX_GROUPS],
                "bad_rows": self.bad_rows_file is not None}


@dataclass
class Row:
    """One data row on its way in."""

    line: int
    cells: list[Any]
    values: dict[FieldInfo, Any] = dc_field(default_factory=dict)
    errors: dict[str, str] = dc_field(default_factory=dict)
    code: str | None = None
    record_id: int | None = None
    action: str = "create"
    target: int | None = None
    version: int | None = None


class _DryRun(Exception):
    pass


class Importer:
    """One import of ``sheet`` into ``obj_ref`` for ``actor``."""

    def __init__(self, store: Any, actor: Actor, obj_ref: str | int, sheet: Sheet, settings: ImportSettings, *,
                 progress: Progress | None = None, chunk: int = MAX_BULK, bad_rows_path: str | None = None):
        self.store, self.actor, self.sheet, self.settings = store, actor, sheet, settings
        self.obj_ref = obj_ref
        self.progress = progress or NoProgress()
        self.chunk = max(1, min(chunk, MAX_BULK))
        self.bad_rows_path = bad_rows_path
        self.fmt = FileFormat(settings.locale, settings.region)
        self._seen: dict[str, int] = {}
        self._width = 0  # columns of the header: a row with more filled cells is ragged

    # ---- the file's layout -------------------------------------------------------------------------
    def layout(self) -> tuple[int, list[str], list[str]]:
        """(header line, column names, warnings) from the first lines of the file."""
        first: list[tuple[int, list[Any]]] = []
        for line, cells in self.sheet.rows():
            first.append((line, cells))
            if len(first) >= 10:
                break
        if not first:
            raise ValidationError({"file": _("is empty")})
        if self.settings.header_row is not None:
            picked = [i for i, (line, _c) in enumerate(first) if line == self.settings.header_row]
            if not picked:
                raise ValidationError({"header_row": f"line {self.settings.header_row} is not among the first lines"})
            index = picked[0]
        else:
            index = detect_header([c for _l, c in first])
        names, warnings = column_names(first[index][1])
        return first[index][0], names, warnings

    def data_rows(self, header_line: int, start_after: int = 0) -> Iterator[tuple[int, list[Any]]]:
        for line, cells in self.sheet.rows():
            if line <= max(header_line, start_after):
                continue
            if not any(str(c).strip() for c in cells):
                continue
            yield line, cells

    # ---- running -------------------------------------------------------------------------------------
    def run(self, *, dry_run: bool = False, start_after: int = 0, result: ImportResult | None = None) -> ImportResult:
        header_line, columns, warnings = self.layout()
        result = result or ImportResult()
        result.columns, result.warnings, result.header_line, result.dry_run = columns, warnings, header_line, dry_run
        self._width = len(columns)
        bad = BadRows(self.bad_rows_path, columns) if self.bad_rows_path else None
        try:
            if dry_run or self.settings.atomic:
                try:
                    with self.store.session(self.actor, write=True) as tx:
                        mapped = self._mapped(tx, columns)
                        last = start_after
                        for chunk in _chunks(self.data_rows(header_line, start_after), self.chunk):
                            if self.progress.cancelled():
                                raise ImportCancelled()
                            last = self._chunk(tx, mapped, chunk, result, bad)
                            self.progress.live(result, last)
                        if dry_run or result.failed:
                            raise _DryRun()
                        self.progress.checkpoint(tx.conn, result, last)
                except _DryRun:
                    if not dry_run:
                        raise ImportFailed(result) from None
            else:
                with self.store.session(self.actor, write=False) as tx:
                    mapped = self._mapped(tx, columns)
                for chunk in _chunks(self.data_rows(header_line, start_after), self.chunk):
                    if self.progress.cancelled():
                        raise ImportCancelled()
                    with self.store.session(self.actor, write=True) as tx:
                        last = self._chunk(tx, self._mapped(tx, columns), chunk, result, bad)
                        self.progress.checkpoint(tx.conn, result, last)
                    self.progress.live(result, last)
        finally:
            if bad is not None:
                result.bad_rows_file = bad.close()
        if not dry_run and result.created + result.updated >= ANALYZE_AFTER_ROWS:
            schema = self.store.db.schema()
            self.store.db.analyze(schema.table(schema.object(self.obj_ref)).name)
        return result

    def _mapped(self, tx: Session, columns: list[str]) -> list[tuple[int, str]]:
        """(column index, target name) of the mapped columns, checked against the object."""
        obj = tx.object(self.obj_ref)
        tx.require(obj, "create" if self.settings.mode == "create" else "edit")
        access = tx.access
        mapping = check_mapping(obj, columns, self.settings.mapping, lambda f: access.field_writable(obj, f))
        for name in self.settings.key if self.settings.mode != "create" else []:
            if name not in ("code", "id") and not obj.has_field(name):
                raise ValidationError({"key": f"{name!r} is not a field of '{obj.api_name}'"})
            if name not in mapping.values():
                raise ValidationError({"key": _("map a column to %(name)s: it is the key that finds the records",
                                                name=repr(name))})
        for rule in self.settings.duplicate_rules:
            for name in rule:
                if name not in mapping.values():
                    raise ValidationError({"duplicate_rules": f"{name!r} is not a mapped field"})
        return [(columns.index(c), f) for c, f in mapping.items()]

    def _chunk(self, tx: Session, mapped: list[tuple[int, str]], chunk: list[tuple[int, list[Any]]],
               result: ImportResult, bad: "BadRows | None") -> int:
        obj = tx.object(self.obj_ref)
        rows = [self._parse(obj, mapped, line, cells) for line, cells in chunk]
        values = [r.values for r in rows]
        link_errors: list[dict[str, str]] = [{} for _r in rows]
        resolve_links(tx.conn, tx.schema, values, link_errors, visible=tx.access.row_filter)
        for r, e in zip(rows, link_errors):
            r.errors.update(e)
        if self.settings.mode != "create":
            self._match(tx, obj, rows)
        if self.settings.duplicate_rules:
            self._duplicates(tx, obj, rows, result)
        for r in rows:
            if r.errors:  # left out of the write: its other cells are checked here, so every cell's error shows
                _check_cells(r)
        todo = [r for r in rows if not r.errors and r.action != "skip"]
        for _attempt in range(3):  # the rows the store refused are set aside and the others go again
            if not todo:
                break
            try:
                tx.apply(ImportOp(obj, [self._op_row(r) for r in todo]))
                break
            except BulkValidationError as exc:
                for i, problems in exc.rows.items():
                    todo[i].errors.update({k: " ".join(v) for k, v in problems.items()})
                todo = [r for r in todo if not r.errors]
        else:
            for r in todo:  # still refused after three rounds: named, never half-written
                r.errors["row"] = _("not written: the store kept refusing rows of its chunk")
            todo = []
        done = set(map(id, todo))
        for r in rows:
            result.rows += 1
            if r.errors:
                result.failed += 1
                self._report(obj, mapped, r, result, bad)
            elif r.action == "skip":
                result.skipped += 1
            elif id(r) in done:
                if r.action == "update":
                    result.updated += 1
                else:
                    result.created += 1
            if len(result.preview) < PREVIEW_ROWS:
                result.preview.append(self._preview(obj, mapped, r))
        return chunk[-1][0]

    # ---- one row -----------------------------------------------------------------------------------
    def _parse(self, obj: ObjectInfo, mapped: list[tuple[int, str]], line: int, cells: list[Any]) -> Row:
        row = Row(line, cells)
        extra = [c for c in cells[self._width:] if str(c).strip()] if self._width else []
        if extra:
            row.errors["row"] = _("has %(cells)s cells; the header has %(columns)s columns", cells=len(cells),
                                  columns=self._width)
        for index, name in mapped:
            cell = cells[index] if index < len(cells) else ""
            if name == "code":
                text = str(cell).strip()
                if text:
                    row.code = text
                continue
            if name == "id":
                text = str(cell).strip()
                if text:
                    if text.isdigit():
                        row.record_id = int(text)
                    else:
                        row.errors["id"] = _("%(value)s is not a record id", value=repr(text))
                continue
            field = obj.field(name)
            try:
                row.values[field] = read_cell(field, cell, self.fmt)
            except FieldValueError as exc:
                row.errors[name] = str(exc)
        return row

    def _op_row(self, r: Row) -> dict[str, Any]:
        values: dict[str, Any] = {f.api_name: v for f, v in r.values.items()}
        if r.action == "update":
            return {"id": r.target, "version": r.version, **values}
        if r.code:
            values["code"] = r.code
        return values

    def _key_of(self, r: Row, names: Sequence[str]) -> tuple[str, ...] | None:
        parts = []
        for name in names:
            if name == "code":
                value: Any = r.code
            elif name == "id":
                value = r.record_id
            else:
                field = next((f for f in r.values if f.api_name == name), None)
                value = None if field is None else _canonical(field, r.values[field])
            if value is None or value == "":
                return None
            parts.append(normalise(value) if name != "id" else str(value))
        return tuple(parts)

    def _existing(self, tx: Session, obj: ObjectInfo, names: Sequence[str], keys: set[tuple[str, ...]]
                  ) -> dict[tuple[str, ...], list[tuple[int, int, str]]]:
        """normalised key -> [(id, version, code)] of the live records the actor may see."""
        table = tx.schema.table(obj)
        cols = [table.c.id if n == "id" else table.c.code if n == "code" else table.c[obj.field(n).column]
                for n in names]
        seen = tx.access.row_filter(obj, table)
        out: dict[tuple[str, ...], list[tuple[int, int, str]]] = {}
        first = sorted({k[0] for k in keys})
        for start in range(0, len(first), 500):
            part = first[start:start + 500]
            if names[0] == "id":
                cond = table.c.id.in_([int(p) for p in part if p.isdigit()])
            else:
                cond = self._loose(cols[0], part)
            stmt = sa.select(table.c.id, table.c.version, table.c.code, *cols).where(
                cond, table.c.deleted_at.is_(None), *([seen] if seen is not None else []))
            for row in tx.conn.execute(stmt):
                key = tuple(str(v) if n == "id" else normalise(v) for n, v in zip(names, row[3:]))
                if key in keys:
                    out.setdefault(key, []).append((row[0], row[1], row[2]))
        return out

    @staticmethod
    def _loose(col: Any, part: list[str]) -> Any:
        """Stored texts whose normalised form (``mapping.normalise``) is among ``part``:
        lowered, without spaces and punctuation, so "+49 30 1234" meets "4930 1234" and
        "Ann@X.org" meets "ann@x.org" (letters beyond ASCII are compared as stored)."""
        stripped = col
        for ch in (" ", "-", ".", "+", "(", ")", "/", "_", "@", ",", "'", ";", "=", "&"):
            stripped = sa.func.replace(stripped, ch, "")
        return sa.func.lower(stripped).in_(part)

    def _match(self, tx: Session, obj: ObjectInfo, rows: list[Row]) -> None:
        """Update and upsert: the record each row's key names."""
        names = self.settings.key
        keyed = {r.line: self._key_of(r, names) for r in rows if not r.errors}
        found = self._existing(tx, obj, names, {k for k in keyed.values() if k is not None})
        for r in rows:
            if r.errors:
                continue
            key = keyed.get(r.line)
            hits = found.get(key, []) if key is not None else []
            if len(hits) == 1:
                r.action, r.target, r.version = "update", hits[0][0], hits[0][1]
            elif len(hits) > 1:
                r.errors["key"] = _("%(key)s matches %(count)s records (%(codes)s); use a unique key",
                                    key=" + ".join(names), count=len(hits), codes=", ".join(h[2] for h in hits[:5]))
            elif self.settings.mode == "update":
                r.errors["key"] = _("no record has %(key)s = %(value)s", key=" + ".join(names),
                                    value=" + ".join(key) if key else "-")

    def _duplicates(self, tx: Session, obj: ObjectInfo, rows: list[Row], result: ImportResult) -> None:
        """Group rows that match each other or existing records on a rule's normalised key,
        then apply the group's decision: skip, update the existing record, or create anyway."""
        decided: set[int] = set()
        for rule in self.settings.duplicate_rules:
            keyed = {r.line: self._key_of(r, rule) for r in rows if not r.errors and r.action == "create"}
            existing = self._existing(tx, obj, rule, {k for k in keyed.values() if k is not None})
            for r in rows:
                key = keyed.get(r.line)
                if key is None or id(r) in decided:
                    continue
                gkey = f"{'+'.join(rule)}:{'|'.join(key)}"
                hits = existing.get(key, [])
                first = self._seen.setdefault(gkey, r.line)  # every key's first line (keys only: bounded per row)
                earlier = first != r.line
                if not hits and not earlier:
                    continue
                group = result.groups.get(gkey)
                if group is None and len(result.groups) < MAX_GROUPS * 10:  # reported; deciding goes on beyond
                    group = result.groups[gkey] = {
                        "key": gkey, "fields": list(rule), "existing": [{"id": i, "code": c} for i, _v, c in hits][:20],
                        "lines": [first] if earlier else [], "size": len(hits) + (1 if earlier else 0)}
                if group is not None:
                    group["lines"].append(r.line)
                    group["size"] += 1
                action = self.settings.duplicate_actions.get(gkey, self.settings.duplicate_default)
                decided.add(id(r))
                if action == "skip":
                    r.action = "skip"
                elif action == "update":
                    if len(hits) == 1:
                        r.action, r.target, r.version = "update", hits[0][0], hits[0][1]
                    else:
                        r.action = "skip"  # the first row of the file is the record: later rows add nothing

    # ---- reporting ---------------------------------------------------------------------------------
    def _report(self, obj: ObjectInfo, mapped: list[tuple[int, str]], r: Row, result: ImportResult,
                bad: "BadRows | None") -> None:
        column_of = {f: result.columns[i] for i, f in mapped}
        for name, message in r.errors.items():
            if len(result.errors) < MAX_ERRORS:
                result.errors.append({"line": r.line, "field": name, "column": column_of.get(name), "message": message})
        if bad is not None:
            bad.add(r.line, r.cells, "; ".join(f"{column_of.get(k, k)}: {m}" for k, m in r.errors.items()))

    def _preview(self, obj: ObjectInfo, mapped: list[tuple[int, str]], r: Row) -> dict[str, Any]:
        cells = []
        for index, name in mapped:
            raw = r.cells[index] if index < len(r.cells) else ""
            value: Any = None
            if name == "code":
                value = r.code
            elif name == "id":
                value = r.record_id
            else:
                f = obj.field(name)
                if f in r.values:
                    v = r.values[f]
                    value = v if isinstance(v, int) and f.type == "link" else _shown(f, v)
            cells.append({"column": index, "field": name, "raw": raw if isinstance(raw, (str, int, float)) else str(raw),
                          "value": value, "error": r.errors.get(name)})
        return {"line": r.line, "action": "error" if r.errors else r.action, "cells": cells,
                "errors": dict(r.errors)}


def _check_cells(r: Row) -> None:
    """The problems of a row's cells that the file's own conventions did not find."""
    for field, value in r.values.items():
        if field.api_name in r.errors or field.type == "link":
            continue
        try:
            field.ftype.import_value(field, value)
        except FieldValueError as exc:
            r.errors[field.api_name] = str(exc)


def _canonical(field: FieldInfo, value: Any) -> Any:
    """A cell's value as the store will keep it (for keys: "030 1234567" is "+49301234567");
    None when it does not parse (the store names that problem)."""
    if not isinstance(value, str) or field.type in ("link", "string", "text"):
        return value
    try:
        return field.ftype.import_value(field, value)
    except FieldValueError:
        return None


def _shown(field: FieldInfo, value: Any) -> Any:
    """A preview cell's value as the store reads it (the cell's text when it does not parse)."""
    parsed = _canonical(field, value)
    return value if parsed is None else value_to_json(field, parsed)


def _chunks(rows: Iterator[tuple[int, list[Any]]], size: int) -> Iterator[list[tuple[int, list[Any]]]]:
    chunk: list[tuple[int, list[Any]]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def rate(done: int, started: float, total: int | None) -> dict[str, Any]:
    """Rows per second and the seconds left, for a progress bar."""
    elapsed = max(time.monotonic() - started, 1e-6)
    per_second = done / elapsed
    left = None if not total or not per_second else max(total - done, 0) / per_second
    return {"rate": round(per_second, 1), "seconds_left": None if left is None else round(left, 1)}
