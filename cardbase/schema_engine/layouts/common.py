"""Helpers shared by cards and tables: field references by id, the configuration-change
transaction, and text checks.

Stored layouts and table definitions refer to user fields as ``#<field id>`` (paths as
``#12.#34``) and to system fields (code, owner, created_at ...) by name, exactly like the
stored rights filters (``rights/stored_filter.py``): renaming a field or an object never
breaks them, and ``usage.py`` finds the fields they use."""
from __future__ import annotations

import unicodedata
from contextlib import contextmanager
from typing import Any, Iterator

from ..actor import Actor
from ..errors import SchemaError
from ..rights.access import AccessPolicy
from ..schema_service import SchemaService
from ..snapshot import FieldInfo, ObjectInfo, Schema
from ..store.session import Session

MAX_LABEL = 200
MAX_HELP = 2000


def field_token(field: FieldInfo) -> str:
    """How a stored definition names one field: ``#<id>``, or a system field's name."""
    return field.api_name if field.id is None else f"#{field.id}"


def field_from_token(schema: Schema, obj: ObjectInfo, token: Any) -> FieldInfo | None:
    """The field of ``obj`` a stored token names today, or None when it no longer exists
    (or never belonged to ``obj``)."""
    if not isinstance(token, str) or not token:
        return None
    if token.startswith("#"):
        try:
            field_id = int(token[1:])
        except ValueError:
            return None
        for f in obj.user_fields:
            if f.id == field_id:
                return f
        return None
    field = obj.fields_by_name.get(token)
    return field if field is not None and field.system else None


def path_to_stored(schema: Schema, obj: ObjectInfo, path: str) -> str:
    """A validated named path ("organisation.city") as ids ("#12.#34")."""
    current, out = obj, []
    steps = path.split(".")
    for i, name in enumerate(steps):
        field = current.field(name)
        out.append(field_token(field))
        if i < len(steps) - 1:
            current = schema.link_target(field)
    return ".".join(out)


def path_to_named(schema: Schema, obj: ObjectInfo, stored: Any) -> str | None:
    """A stored path with today's names; None when a step no longer exists or no longer
    leads on (a link changed type)."""
    if not isinstance(stored, str) or not stored:
        return None
    current, names = obj, []
    steps = stored.split(".")
    for i, token in enumerate(steps):
        field = field_from_token(schema, current, token)
        if field is None and not token.startswith("#"):
            # tolerate a plain name (hand-written or legacy documents)
            field = current.fields_by_name.get(token)
        if field is None:
            return None
        names.append(field.api_name)
        if i < len(steps) - 1:
            if field.type != "link":
                return None
            current = schema.link_target(field)
    return ".".join(names)


def check_text(value: Any, key: str, max_len: int, errors: dict[str, str], *, required: bool = False) -> str:
    """A label or help text: text, no control characters (newlines allowed in help), at
    most ``max_len`` characters. Problems are collected in ``errors`` under ``key``."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors[key] = "must be text"
        return ""
    value = value.strip()
    if required and not value:
        errors[key] = "is required"
    elif len(value) > max_len:
        errors[key] = f"is {len(value)} characters long; at most {max_len} are allowed"
    elif any(unicodedata.category(c) == "Cc" and c not in "\n\t" for c in value):
        errors[key] = "must not contain control characters"
    return value


def check_name(name: Any, key: str = "name") -> str:
    """The name of a card or view: required, at most 200 characters."""
    errors: dict[str, str] = {}
    value = check_text(name, key, MAX_LABEL, errors, required=True)
    if not errors and "\n" in value:
        errors[key] = "must be one line"
    if errors:
        raise SchemaError(errors)
    return value


@contextmanager
def config_change(db, actor: Actor, action: str, target: str, obj_ref: str | int,
                  policy=None) -> Iterator[Any]:
    """The schema service's configuration transaction: the configure right on the object
    (admins always), one transaction, a ConfigChange row (``tx.details`` becomes its
    details) and a schema-version bump, so every worker reloads."""
    with SchemaService(db, policy)._change(actor, action, target, obj_ref) as tx:
        yield tx


@contextmanager
def reading(source: Any) -> Iterator[tuple[Any, Schema]]:
    """(connection, snapshot) for a layout read: a channel's engine ``Session`` reads in its
    own transaction and snapshot (no second transaction or version check); a ``Database``
    opens a read transaction of its own."""
    if isinstance(source, Session):
        yield source.conn, source.schema
        return
    with source.read() as conn:
        yield conn, source.schema(conn)


def access_for(conn, schema: Schema, actor: Actor, policy=None):
    """The store's rights of ``actor`` in this transaction."""
    return (policy or AccessPolicy()).access(conn, schema, actor)
