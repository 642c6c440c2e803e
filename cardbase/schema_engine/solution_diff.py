"""What importing a solution document would do, computed without writing anything.

``diff_solution(document, current)`` compares a document with the current export
(``solution.export_solution``) the way ``solution.import_solution`` applies it: objects
and fields by name, cards and shared views by object and name, translations by object,
field and language. It is a pure function over two JSON documents.

Import removes no object, field, card or view: what the current configuration has and
the document does not is reported under ``kept`` (it stays as it is). It does replace
the translations of each object or field the document translates, so a language the
document leaves out for such a target is reported under ``removed``.
``check_document`` refuses a document import would refuse early (format header, shape,
unknown field types) with the location of each problem.
"""
from __future__ import annotations

import json
from typing import Any, Mapping

from .errors import SchemaError
from .field_types.registry import all_types
from .solution import FORMAT, FORMAT_VERSION

OBJECT_KEYS = ("label", "label_plural", "description", "code_pattern", "display_field")
FIELD_KEYS = ("label", "type", "required", "unique", "default", "help_text", "options", "rules")


def check_document(document: Any) -> None:
    """The header and shape of a solution document; SchemaError naming every problem
    found (location -> message) when import would refuse it."""
    if not isinstance(document, Mapping):
        raise SchemaError({"document": "must be a JSON object (a cardbase solution)"})
    errors: dict[str, str] = {}
    if document.get("format") != FORMAT:
        errors["format"] = f"must be '{FORMAT}' (is {document.get('format')!r}): this is not a cardbase solution"
    version = document.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int) or not 1 <= version <= FORMAT_VERSION:
        errors["format_version"] = f"{version!r} is not supported (this cardbase reads 1..{FORMAT_VERSION})"
    objects = document.get("objects")
    if not isinstance(objects, list):
        errors["objects"] = "must be a list"
        objects = []
    types = {name for name, t in all_types().items() if not t.system_only}
    names: set[str] = set()
    for i, spec in enumerate(objects):
        where = f"objects[{i}]"
        if not isinstance(spec, Mapping):
            errors[where] = "must be an object"
            continue
        name = spec.get("name")
        if not isinstance(name, str) or not name:
            errors[f"{where}.name"] = "must be a non-empty text"
        elif name in names:
            errors[f"{where}.name"] = f"'{name}' appears twice"
        else:
            names.add(name)
        fields = spec.get("fields")
        if fields is not None and not isinstance(fields, list):
            errors[f"{where}.fields"] = "must be a list"
            continue
        seen: set[str] = set()
        for j, f in enumerate(fields or []):
            fwhere = f"{where}.fields[{j}]"
            if not isinstance(f, Mapping):
                errors[fwhere] = "must be an object"
                continue
            fname = f.get("name")
            if not isinstance(fname, str) or not fname:
                errors[f"{fwhere}.name"] = "must be a non-empty text"
            elif fname in seen:
                errors[f"{fwhere}.name"] = f"'{fname}' appears twice"
            else:
                seen.add(fname)
            ftype = f.get("type")
            if not isinstance(ftype, str) or ftype not in types:
                errors[f"{fwhere}.type"] = (f"unknown field type {ftype!r} of field '{fname}'; known types: "
                                            f"{', '.join(sorted(types))}")
    for kind in ("cards", "views", "translations"):
        value = document.get(kind)
        if value is not None and not isinstance(value, list):
            errors[kind] = "must be a list"
        for i, item in enumerate(value if isinstance(value, list) else []):
            if not isinstance(item, Mapping):
                errors[f"{kind}[{i}]"] = "must be an object"
            elif kind != "translations" and (not isinstance(item.get("name"), str) or not item["name"]):
                errors[f"{kind}[{i}].name"] = "must be a non-empty text"
    if errors:
        raise SchemaError(errors)


def _same(a: Any, b: Any) -> bool:
    return json.dumps(a, sort_keys=True, default=str) == json.dumps(b, sort_keys=True, default=str)


def _entry(kind: str, name: str, changes: dict[str, tuple[Any, Any]] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": kind, "name": name}
    if changes is not None:
        out["changes"] = {k: {"from": old, "to": new} for k, (old, new) in changes.items()}
    return out


def _by(items: Any, key) -> dict[Any, Mapping[str, Any]]:
    out: dict[Any, Mapping[str, Any]] = {}
    for item in items if isinstance(items, list) else []:
        if isinstance(item, Mapping):
            out.setdefault(key(item), item)
    return out


def diff_solution(document: Mapping[str, Any], current: Mapping[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """``{"added": [...], "changed": [...], "removed": [...], "kept": [...]}``; each entry ``{"kind"
    (object|field|card|view|translation), "name" ("deal", "deal.stage", "deal/Full",
    "deal.stage [de]"), "changes"? {key: {"from", "to"}}}``. Only keys the document sets
    (not None) count as changes, as import treats them."""
    added: list[dict[str, Any]] = []
    changed: list[dict[str, Any]] = []
    kept: list[dict[str, Any]] = []
    removed: list[dict[str, Any]] = []
    here = _by(current.get("objects"), lambda o: o.get("name"))
    theirs = _by(document.get("objects"), lambda o: o.get("name"))
    for name, spec in theirs.items():
        mine = here.get(name)
        fields_theirs = _by(spec.get("fields"), lambda f: f.get("name"))
        if mine is None:
            added.append(_entry("object", name))
            added.extend(_entry("field", f"{name}.{f}") for f in fields_theirs)
            continue
        diff = {k: (mine.get(k), spec[k]) for k in OBJECT_KEYS
                if spec.get(k) is not None and not _same(mine.get(k), spec[k])}
        if diff:
            changed.append(_entry("object", name, diff))
        fields_mine = _by(mine.get("fields"), lambda f: f.get("name"))
        for fname, fspec in fields_theirs.items():
            current_field = fields_mine.get(fname)
            if current_field is None:
                added.append(_entry("field", f"{name}.{fname}"))
                continue
            fdiff = {k: (current_field.get(k), fspec[k]) for k in FIELD_KEYS
                     if k in fspec and fspec[k] is not None and not _same(current_field.get(k), fspec[k])}
            if fdiff:
                changed.append(_entry("field", f"{name}.{fname}", fdiff))
        kept.extend(_entry("field", f"{name}.{f}") for f in fields_mine if f not in fields_theirs)
    kept[:0] = [_entry("object", name) for name in here if name not in theirs]
    for kind, body, extra in (("cards", "layout", "is_default"), ("views", "definition", None)):
        label = kind[:-1]
        mine_items = _by(current.get(kind), lambda c: (c.get("object"), c.get("name")))
        their_items = _by(document.get(kind), lambda c: (c.get("object"), c.get("name")))
        for key, item in their_items.items():
            name = f"{key[0]}/{key[1]}"
            old = mine_items.get(key)
            if old is None:
                added.append(_entry(label, name))
                continue
            diff = {}
            if not _same(old.get(body) or {}, item.get(body) or {}):
                diff[body] = (old.get(body), item.get(body))
            if extra and bool(old.get(extra)) != bool(item.get(extra)):
                diff[extra] = (bool(old.get(extra)), bool(item.get(extra)))
            if diff:
                changed.append(_entry(label, name, diff))
        kept.extend(_entry(label, f"{k[0]}/{k[1]}") for k in mine_items if k not in their_items)
    if document.get("translations") is not None:
        def tkey(t):
            return (t.get("object"), t.get("field"), t.get("language"))
        mine_t = _by(current.get("translations"), tkey)
        for key, item in _by(document.get("translations"), tkey).items():
            name = f"{key[0]}{'.' + key[1] if key[1] else ''} [{key[2]}]"
            texts = {k: v for k, v in item.items() if k not in ("object", "field", "language")}
            old = mine_t.get(key)
            old_texts = {k: v for k, v in (old or {}).items() if k not in ("object", "field", "language")}
            if old is None:
                added.append(_entry("translation", name))
            elif not _same(old_texts, texts):
                changed.append(_entry("translation", name, {k: (old_texts.get(k), texts.get(k))
                                                            for k in sorted(set(texts) | set(old_texts))
                                                            if old_texts.get(k) != texts.get(k)}))
        # set_translations replaces a target's texts: a language the document leaves out
        # for a target it mentions is removed.
        mentioned = {(k[0], k[1]) for k in _by(document.get("translations"), tkey)}
        their_keys = set(_by(document.get("translations"), tkey))
        for key in mine_t:
            if (key[0], key[1]) in mentioned and key not in their_keys:
                removed.append(_entry("translation", f"{key[0]}{'.' + key[1] if key[1] else ''} [{key[2]}]"))
    return {"added": added, "changed": changed, "removed": removed, "kept": kept}
