"""Word templates in solutions: exported with the configuration (each template's current
file as base64 with its name, description, language and groups by name) and imported in
the import's one transaction -- checked like an upload against the imported metadata, so a
template that does not fit refuses the whole document. Groups are not part of a solution:
those missing in the target are left out and the report says so."""
from __future__ import annotations

import base64
import binascii
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from cardbase.schema_engine.actor import Actor
from cardbase.schema_engine.errors import SchemaError, ValidationError
from cardbase.schema_engine.meta_models import Group
from cardbase.schema_engine.snapshot import Schema
from cardbase.schema_engine.solution import SolutionPart, solution_part

from .formatting import LANGUAGES
from .limits import MAX_DESCRIPTION, MAX_NAME, MAX_UPLOAD_BYTES
from .storage import export_templates, put_template

KEY = "templates"


def _text(entry: dict[str, Any], key: str, where: str, limit: int, required: bool = True) -> str:
    value = entry.get(key, "" if not required else None)
    if not isinstance(value, str) or (required and not value.strip()) or len(value) > limit:
        raise SchemaError({f"{where}.{key}": f"must be a text of 1 to {limit} characters" if required
                           else f"must be a text of at most {limit} characters"})
    return value


def load_templates(conn: Connection, schema: Schema, entries: Any, actor: Actor, report: dict[str, list[str]]) -> None:
    if not isinstance(entries, list):
        raise SchemaError({KEY: "must be a list"})
    groups = dict(conn.execute(sa.select(Group.name, Group.id)).all())
    for i, entry in enumerate(entries):
        where = f"{KEY}[{i}]"
        if not isinstance(entry, dict):
            raise SchemaError({where: "must be an object"})
        object_name = _text(entry, "object", where, 63)
        if not schema.has_object(object_name):
            raise SchemaError({f"{where}.object": f"there is no object '{object_name}' in the solution"})
        name = _text(entry, "name", where, MAX_NAME)
        language = entry.get("language", "en")
        if language not in LANGUAGES:
            raise SchemaError({f"{where}.language": f"must be one of {', '.join(LANGUAGES)}"})
        try:
            content = base64.b64decode(_text(entry, "content", where, MAX_UPLOAD_BYTES * 2), validate=True)
        except (binascii.Error, ValueError):
            raise SchemaError({f"{where}.content": "must be the .docx file in base64"}) from None
        wanted = entry.get("groups") or []
        if not isinstance(wanted, list) or not all(isinstance(g, str) for g in wanted):
            raise SchemaError({f"{where}.groups": "must be a list of group names"})
        try:
            outcome = put_template(conn, schema, actor, schema.object(object_name), name=name,
                                   description=_text(entry, "description", where, MAX_DESCRIPTION, required=False),
                                   language=language, group_ids=[groups[g] for g in wanted if g in groups],
                                   filename=_text(entry, "filename", where, 255), content=content)
        except ValidationError as exc:
            raise SchemaError({where: f"template '{name}': " + "; ".join(m for ms in exc.errors.values() for m in ms)}
                              ) from None
        missing = [g for g in wanted if g not in groups]
        note = f" (groups not here, left out: {', '.join(missing)})" if missing else ""
        if outcome != "unchanged":
            report["added" if outcome == "added" else "changed"].append(f"template {object_name}: {name}{note}")


solution_part(SolutionPart(KEY, export_templates, load_templates))
