"""Solutions: the whole configuration as one portable JSON document.

Export writes objects, fields (options in portable form: object names, not ids), cards
and views; references to fields inside cards and views (``#<field id>``) become
``@object.field``. Import creates what is missing and updates what differs, all in one
transaction, so a bad document changes nothing.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Mapping

import sqlalchemy as sa

from .actor import SYSTEM, Actor
from .errors import SchemaError
from .field_types.base import FieldContext
from .meta_models import CardLayout, SavedView
from .field_rules import rules_of
from .field_sources import source_of
from .layouts import portable
from .schema_service import SchemaService
from .snapshot import Schema, load_schema

FORMAT = "cardbase-solution"
FORMAT_VERSION = 1
_ID_TOKEN = re.compile(r"#(\d+)\b")
_NAME_TOKEN = re.compile(r"@([a-z][a-z0-9_]*)\.([a-z][a-z0-9_]*)")


@dataclass(frozen=True)
class SolutionPart:
    """A part of the solution kept by a feature above the engine (Word templates ...):
    ``export(conn, schema)`` gives its JSON entries under ``key``; ``load(conn, schema,
    entries, actor, report)`` applies them inside the import's transaction (after objects,
    fields, layouts and translations), raising SchemaError to refuse the document."""

    key: str
    export: Callable[..., list[Any]]
    load: Callable[..., None]


_parts: list[SolutionPart] = []


def solution_part(part: SolutionPart) -> SolutionPart:
    """Register a part (its feature imports this and registers at import time)."""
    if all(p.key != part.key for p in _parts):
        _parts.append(part)
    return part


def export_solution(db) -> dict[str, Any]:
    with db.read() as conn:
        schema = load_schema(conn)
        objects = []
        for obj in schema.objects:
            objects.append({
                "name": obj.api_name, "label": obj.label, "label_plural": obj.label_plural,
                "description": obj.description, "code_pattern": obj.code_pattern,
                "display_field": obj.display_field_name, "position": obj.position,
                "fields": [{
                    "name": f.api_name, "label": f.label, "type": f.type, "required": f.required,
                    "unique": f.unique, "default": f.default, "help_text": f.help_text,
                    "options": f.ftype.export_options(f.options, FieldContext(schema, obj, f.id)),
                    **({"rules": rules_of(f, obj)} if f.rules else {}),
                    **({"source": source_of(schema, f)} if f.source else {}),
                } for f in obj.user_fields],
            })
        c, v = CardLayout.__table__.c, SavedView.__table__.c
        cards = [{"object": schema.object_name(r.object_id), "name": r.name, "is_default": r.is_default,
                  "layout": _portable_layout(schema, r.object_id, r.layout)}
                 for r in conn.execute(sa.select(c.object_id, c.name, c.is_default, c.layout).order_by(c.id))]
        views = [{"object": schema.object_name(r.object_id), "name": r.name, "shared": r.shared,
                  "definition": _portable_layout(schema, r.object_id, r.definition)}
                 for r in conn.execute(sa.select(v.object_id, v.name, v.shared, v.definition)
                                       .where(v.shared.is_(True)).order_by(v.id))]
        parts = {p.key: p.export(conn, schema) for p in _parts}
    return {"format": FORMAT, "format_version": FORMAT_VERSION,
            "exported_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "objects": objects, "cards": cards, "views": views, "translations": _export_translations(schema),
            **parts}


def _export_translations(schema: Schema) -> list[dict[str, Any]]:
    """One entry per object or field and language: ``{"object", "field", "language", <texts>}``."""
    out = []
    for obj in schema.objects:
        for target, field in [(obj, None)] + [(f, f.api_name) for f in obj.user_fields]:
            for language, texts in sorted(target.translations.items()):
                out.append({"object": obj.api_name, "field": field, "language": language, **texts})
    return out


class _DryRun(Exception):
    """Ends a dry run's transaction: everything it did is rolled back."""


def import_solution(db, document: Mapping[str, Any], actor: Actor = SYSTEM, *,
                    dry_run: bool = False) -> dict[str, list[str]]:
    """Apply a solution document. Returns what was added and changed.

    ``dry_run``: do the whole import -- every check, every metadata row and table -- in
    its transaction and roll it back at the end (the schema changes are transactional on
    both engines), so a document is refused with exactly the errors the real import
    gives, and nothing is left behind either way."""
    if not dry_run:
        return _import(db, document, actor)
    report: dict[str, list[str]] = {}
    try:
        _import(db, document, actor, keep=report)
    except _DryRun:
        return report
    raise AssertionError("a dry run must roll back")  # pragma: no cover


def _import(db, document: Mapping[str, Any], actor: Actor,
            keep: dict[str, list[str]] | None = None) -> dict[str, list[str]]:
    _check_header(document)
    objects = document.get("objects")
    if not isinstance(objects, list):
        raise SchemaError({"objects": "must be a list"})
    service = SchemaService(db)
    report: dict[str, list[str]] = {"added": [], "changed": []}
    with service.batch(actor):
        schema = service.batch_tx.schema
        # Pass 1: objects with their non-link fields (links may point at objects defined later).
        deferred: list[tuple[str, dict]] = []
        for i, spec in enumerate(objects):
            _check_object_spec(spec, f"objects[{i}]")
            fields = [{k: v for k, v in f.items() if k not in ("rules", "source")} for f in spec.get("fields") or []]
            plain = [f for f in fields if not _needs_others(f)]
            deferred += [(spec["name"], f) for f in fields if _needs_others(f)]
            head = {k: v for k, v in spec.items() if k not in ("fields", "display_field")}
            if schema.has_object(spec["name"]):
                _update_object(service, schema, spec, head, plain, report)
            else:
                service.create_object(actor, {**head, "fields": plain})
                report["added"].append(f"object {spec['name']}")
            schema = service.batch_tx.schema
        # Pass 2: links, then the computed fields that read other fields (possibly each other).
        deferred.sort(key=lambda item: item[1].get("type") not in LINKING)
        _add_deferred(service, actor, deferred, report)
        schema = service.batch_tx.schema
        for spec in objects:
            obj = schema.object(spec["name"])
            wanted = [f["name"] for f in spec.get("fields") or []]
            if wanted and [f.api_name for f in obj.user_fields][:len(wanted)] != wanted:
                # links were added in a second pass; put every field back where the document has it
                rest = [f.api_name for f in obj.user_fields if f.api_name not in wanted]
                service.reorder_fields(actor, obj.api_name, wanted + rest)
            if spec.get("display_field") and obj.display_field_name != spec["display_field"]:
                service.update_object(actor, spec["name"], {"display_field": spec["display_field"]})
            schema = service.batch_tx.schema
        _import_rules(service, actor, objects, report)  # last: a rule may read any field of the object
        schema = service.batch_tx.schema
        _import_layouts(service.batch_tx.conn, schema, document, report)
        _import_translations(service, actor, schema, document.get("translations"))
        for part in _parts:
            if document.get(part.key) is not None:
                part.load(service.batch_tx.conn, service.batch_tx.schema, document[part.key], actor, report)
        if keep is not None:  # a dry run: hand the report out, roll everything back
            keep.update(report)
            raise _DryRun()
    return report


def _import_rules(service: SchemaService, actor: Actor, objects: list, report) -> None:
    """Set the conditional field rules and sources the document carries, once every
    field exists (a source names a field of another object)."""
    for spec in objects:
        for fspec in spec.get("fields") or []:
            obj = service.batch_tx.schema.object(spec["name"])
            field = obj.field(fspec["name"])
            if "rules" in fspec and (rules_of(field, obj) or None) != (fspec["rules"] or None):
                service.update_field(actor, obj.api_name, field.api_name, {"rules": fspec["rules"]})
                if f"field {obj.api_name}.{field.api_name}" not in report["added"]:
                    report["changed"].append(f"field {obj.api_name}.{field.api_name}: rules")
            schema = service.batch_tx.schema
            if "source" in fspec and (source_of(schema, field) or None) != (fspec["source"] or None):
                service.update_field(actor, obj.api_name, field.api_name, {"source": fspec["source"]})
                if f"field {obj.api_name}.{field.api_name}" not in report["added"]:
                    report["changed"].append(f"field {obj.api_name}.{field.api_name}: source")


def _import_translations(service: SchemaService, actor: Actor, schema: Schema, entries: Any) -> None:
    """Set the labels in other languages the document carries (a target it does not
    mention keeps its own)."""
    if entries is None:
        return
    if not isinstance(entries, list):
        raise SchemaError({"translations": "must be a list"})
    by_target: dict[tuple[str, str | None], dict[str, dict[str, Any]]] = {}
    for i, entry in enumerate(entries):
        if not isinstance(entry, Mapping) or not schema.has_object(str(entry.get("object"))):
            raise SchemaError({f"translations[{i}].object": "names no object of this solution"})
        field = entry.get("field")
        if field is not None and not schema.object(entry["object"]).has_field(str(field)):
            raise SchemaError({f"translations[{i}].field": f"names no field of '{entry['object']}'"})
        texts = {k: v for k, v in entry.items() if k not in ("object", "field", "language")}
        by_target.setdefault((entry["object"], field), {})[str(entry.get("language"))] = texts
    for (obj_name, field), texts in by_target.items():
        service.set_translations(actor, obj_name, texts, field)


def _check_object_spec(spec: Any, where: str) -> None:
    """The shape of one object entry, so a malformed file gets a message, not a crash."""
    if not isinstance(spec, Mapping):
        raise SchemaError({where: "must be an object"})
    if not isinstance(spec.get("name"), str) or not spec["name"]:
        raise SchemaError({f"{where}.name": "must be a non-empty text"})
    fields = spec.get("fields")
    if fields is not None and not isinstance(fields, list):
        raise SchemaError({f"{where}.fields": "must be a list"})
    names = set()
    for j, f in enumerate(fields or []):
        if not isinstance(f, Mapping):
            raise SchemaError({f"{where}.fields[{j}]": "must be an object"})
        if not isinstance(f.get("name"), str) or not f["name"]:
            raise SchemaError({f"{where}.fields[{j}].name": "must be a non-empty text"})
        if f["name"] in names:
            raise SchemaError({f"{where}.fields[{j}].name": f"'{f['name']}' appears twice"})
        names.add(f["name"])


LINKING = ("link", "links")  # fields that name another object: added once every object exists


def _needs_others(fspec: Mapping[str, Any]) -> bool:
    return fspec.get("type") in LINKING + ("lookup", "rollup", "formula")


def _add_deferred(service: SchemaService, actor: Actor, deferred: list[tuple[str, dict]], report) -> None:
    """Add or update the deferred fields. A computed field may read another one defined
    later in the document (an order's total reads its lines' cost): what fails is tried
    again after the others, until a round makes no progress -- then its error stands.
    A refused field is refused before anything is written, so retrying is safe."""
    waiting = deferred
    while waiting:
        failed: list[tuple[str, dict, SchemaError]] = []
        for obj_name, fspec in waiting:
            obj = service.batch_tx.schema.object(obj_name)
            try:
                if obj.has_field(fspec["name"]):
                    _update_field(service, obj, fspec, report)
                else:
                    service.add_field(actor, obj_name, fspec)
                    report["added"].append(f"field {obj_name}.{fspec['name']}")
            except SchemaError as exc:
                if fspec.get("type") in LINKING:
                    raise
                failed.append((obj_name, fspec, exc))
        if len(failed) == len(waiting):
            raise failed[0][2]
        waiting = [(o, f) for o, f, _ in failed]


def _update_object(service: SchemaService, schema: Schema, spec, head, fields, report) -> None:
    obj = schema.object(spec["name"])
    changes = {k: v for k, v in head.items() if k in ("label", "label_plural", "description", "code_pattern")
               and v is not None and getattr(obj, k) != v}
    if changes:
        service.update_object(SYSTEM, obj.api_name, changes)
        report["changed"].append(f"object {obj.api_name}: {', '.join(sorted(changes))}")
    for fspec in fields:
        obj = service.batch_tx.schema.object(spec["name"])
        if obj.has_field(fspec["name"]):
            _update_field(service, obj, fspec, report)
        else:
            service.add_field(SYSTEM, obj.api_name, fspec)
            report["added"].append(f"field {obj.api_name}.{fspec['name']}")


def _update_field(service: SchemaService, obj, fspec: Mapping[str, Any], report) -> None:
    field = obj.field(fspec["name"])
    schema = service.batch_tx.schema
    current = {"label": field.label, "type": field.type, "required": field.required, "unique": field.unique,
               "default": field.default, "help_text": field.help_text,
               "options": field.ftype.export_options(field.options, FieldContext(schema, obj, field.id))}
    changes = {k: v for k, v in fspec.items() if k in current and v is not None and current[k] != v}
    if changes:
        service.update_field(SYSTEM, obj.api_name, field.api_name, changes)
        report["changed"].append(f"field {obj.api_name}.{field.api_name}: {', '.join(sorted(changes))}")


def _import_layouts(conn, schema: Schema, document: Mapping[str, Any], report) -> None:
    for kind, model, body in (("cards", CardLayout, "layout"), ("views", SavedView, "definition")):
        for i, item in enumerate(document.get(kind) or []):
            if not isinstance(item, Mapping) or not schema.has_object(str(item.get("object"))):
                raise SchemaError({f"{kind}[{i}].object": "names no object of this solution"})
            obj = schema.object(item["object"])
            if not isinstance(item.get("name"), str) or not item["name"].strip():
                raise SchemaError({f"{kind}[{i}].name": "must be a non-empty text"})
            same = [model.object_id == obj.id, model.name == item["name"]]
            if kind == "views":  # a user's personal view of the same name is not this one
                same.append(SavedView.shared.is_(True))
            exists = conn.execute(sa.select(model.id).where(*same)).first()
            values = {body: _local_layout(schema, obj, item.get(body) or {}, f"{kind}[{i}]")}
            if kind == "cards":
                values["is_default"] = bool(item.get("is_default"))
                if values["is_default"]:  # one default card per object
                    conn.execute(sa.update(model).where(model.object_id == obj.id).values(is_default=False))
            else:
                values["shared"] = True
            if exists:
                conn.execute(sa.update(model).where(model.id == exists[0]).values(**values))
            else:
                conn.execute(sa.insert(model).values(object_id=obj.id, name=item["name"], **values))
                report["added"].append(f"{kind[:-1]} {obj.api_name}.{item['name']}")


def _portable_layout(schema: Schema, object_id: int, doc: Any) -> Any:
    """A card layout or table/view definition (``layouts``) converted where it holds
    field references only; other documents by the generic token rewrite."""
    obj = schema.object(object_id)
    if portable.is_card_layout(doc):
        return portable.card_to_portable(schema, obj, doc)
    if portable.is_table_definition(doc):
        return portable.definition_to_portable(schema, obj, doc)
    return _portable(schema, doc)


def _local_layout(schema: Schema, obj, doc: Any, where: str) -> Any:
    if portable.is_card_layout(doc):
        return portable.card_from_portable(schema, obj, doc, where)
    if portable.is_table_definition(doc):
        return portable.definition_from_portable(schema, obj, doc, where)
    return _local(schema, doc, where)


def _portable(schema: Schema, doc: Any) -> Any:
    def repl(m: re.Match) -> str:
        try:
            f = schema.field_by_id(int(m.group(1)))
        except Exception:
            return m.group(0)
        return f"@{schema.object_name(f.object_id)}.{f.api_name}"
    return json.loads(_ID_TOKEN.sub(repl, json.dumps(doc)))


def _local(schema: Schema, doc: Any, where: str) -> Any:
    def repl(m: re.Match) -> str:
        obj_name, field_name = m.groups()
        if not schema.has_object(obj_name) or not schema.object(obj_name).has_field(field_name):
            raise SchemaError({where: f"refers to unknown field {obj_name}.{field_name}"})
        return f"#{schema.object(obj_name).field(field_name).id}"
    return json.loads(_NAME_TOKEN.sub(repl, json.dumps(doc)))


def _check_header(document: Any) -> None:
    if not isinstance(document, Mapping):
        raise SchemaError({"document": "must be a JSON object"})
    if document.get("format") != FORMAT:
        raise SchemaError({"format": f"must be '{FORMAT}'"})
    version = document.get("format_version")
    if not isinstance(version, int) or version < 1 or version > FORMAT_VERSION:
        raise SchemaError({"format_version": f"{version!r} is not supported (this cardbase reads 1..{FORMAT_VERSION})"})


def load_file(path: str) -> dict[str, Any]:
    with open(path, encoding="utf-8") as fh:
        try:
            return json.load(fh)
        except json.JSONDecodeError as exc:
            raise SchemaError({"document": f"is not valid JSON: {exc}"}) from None


def save_file(document: Mapping[str, Any], path: str) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(document, fh, indent=2, ensure_ascii=False)
        fh.write("\n")
