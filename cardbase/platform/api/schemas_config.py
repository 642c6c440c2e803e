"""Marshmallow schemas of solutions (export, import and its preview), the configuration
change log and grouped figures (aggregates), turned into OpenAPI components by apispec."""
from __future__ import annotations

import marshmallow as ma
from marshmallow import fields as f
from marshmallow import validate as v

from cardbase.schema_engine.solution import FORMAT, FORMAT_VERSION

from .schemas import Actor, Strict, _desc


# ---- solutions ----------------------------------------------------------------------------------
class SolutionDocument(ma.Schema):
    """Open (unknown keys allowed): the engine checks the document, and a later format may add keys."""

    class Meta:
        unknown = ma.INCLUDE

    format = f.String(required=True, validate=v.OneOf([FORMAT]))
    format_version = f.Integer(required=True, validate=v.Range(min=1, max=FORMAT_VERSION))
    exported_at = f.String()
    objects = f.List(f.Dict(), required=True, metadata=_desc("objects with their fields (options name objects, "
                                                              "not ids)"))
    cards = f.List(f.Dict(), metadata=_desc("card layouts, fields as @object.field"))
    views = f.List(f.Dict(), metadata=_desc("the table designs and shared views"))
    translations = f.List(f.Dict())


class DiffEntry(Strict):
    kind = f.String(required=True, metadata=_desc("object, field, card, view or translation"))
    name = f.String(required=True, metadata=_desc("deal, deal.stage, deal/Full, deal.stage [de]"))
    changes = f.Dict(keys=f.String(), values=f.Dict(), metadata=_desc("key -> {from, to}"))


class SolutionDiff(Strict):
    added = f.List(f.Nested(DiffEntry), required=True)
    changed = f.List(f.Nested(DiffEntry), required=True)
    removed = f.List(f.Nested(DiffEntry), required=True, metadata=_desc("translations the document replaces"))
    kept = f.List(f.Nested(DiffEntry), required=True, metadata=_desc("here but not in the document: import "
                                                                     "removes nothing"))


class ImportReport(ma.Schema):
    class Meta:
        unknown = ma.INCLUDE

    added = f.List(f.String(), required=True)
    changed = f.List(f.String(), required=True)


class SolutionImportResult(Strict):
    dry_run = f.Boolean(required=True)
    diff = f.Nested(SolutionDiff, required=True, metadata=_desc("what the import does (did)"))
    report = f.Nested(ImportReport, metadata=_desc("what was applied (absent in a dry run)"))


# ---- the configuration log ----------------------------------------------------------------------
class ConfigChangeEntry(Strict):
    id = f.Integer(required=True)
    at = f.DateTime(required=True, allow_none=True)
    action = f.String(required=True, metadata=_desc("create_object, add_field, save_card, save_view, batch …"))
    target = f.String(required=True, metadata=_desc("what changed: deal, deal.stage, deal/card:Full …"))
    details = f.Raw(required=True, allow_none=True, metadata=_desc("the change's own details (JSON)"))
    actor = f.Nested(Actor, required=True)


class ConfigLog(Strict):
    data = f.List(f.Nested(ConfigChangeEntry), required=True)
    count = f.Integer(required=True, metadata=_desc("entries in all pages"))


# ---- grouped figures ----------------------------------------------------------------------------
class AggregateResult(Strict):
    data = f.List(f.Dict(keys=f.String()), required=True,
                  metadata=_desc("one row per group: each group key (a path) with its value, then count and "
                                 "the metrics (sum_amount, avg_probability …)"))


STATIC = [SolutionDocument, DiffEntry, SolutionDiff, ImportReport, SolutionImportResult, ConfigChangeEntry,
          ConfigLog, AggregateResult]
