"""What the object and field screens share: the object being configured (403 without the
configure right on it), stale-form detection, and engine errors turned into per-input
messages.

Stale forms: every form carries the schema version it was rendered at and a fingerprint
of the object (its definition, fields and labels). When the version moved on, the form is
refused only if *this* object's fingerprint changed, so a colleague's change to another
object never throws away a form.
"""
from __future__ import annotations

import hashlib
import json
from typing import Any, Mapping

from flask import abort, request
from flask_babel import gettext as _

from cardbase.platform.api.metadata import object_json
from cardbase.platform.context import current_actor, engine_session
from cardbase.schema_engine.accounts.policy import ADMIN
from cardbase.schema_engine.errors import (CardbaseError, ConversionRefused, Forbidden, InUse, NotFound,
                                           ValidationError)
from cardbase.schema_engine.snapshot import FieldInfo, ObjectInfo, Schema

LANGUAGE = "de"  # the other language the forms offer labels in


def configurable_object(object_name: str) -> tuple[Schema, ObjectInfo]:
    """The object by API name, if the user may configure it: unknown 404, else 403 (the
    request's engine session answers, with the schema it reads)."""
    s = engine_session()
    schema = s.schema
    if not schema.has_object(object_name):
        abort(404)
    obj = schema.object(object_name)
    if not s.can(obj, "configure"):
        abort(403)
    return schema, obj


def require_admin(what: str) -> None:
    """403 unless the admin policy (``accounts.policy.ADMIN``) lets the user ``what``."""
    try:
        ADMIN.require_admin(current_actor(), what)
    except Forbidden:
        abort(403)


def user_field(obj: ObjectInfo, field_name: str) -> FieldInfo:
    """The object's field the URL names, not a system field: else 404."""
    field = obj.fields_by_name.get(field_name)
    if field is None or field.system:
        abort(404)
    return field


def fingerprint(schema: Schema, obj: ObjectInfo) -> str:
    """A short hash of everything the designer forms show about the object."""
    data = object_json(schema, obj)
    data["translations"] = {k: dict(v) for k, v in obj.translations.items()}
    data["field_translations"] = {f.api_name: {k: dict(v) for k, v in f.translations.items()}
                                  for f in obj.user_fields}
    raw = json.dumps(data, sort_keys=True, default=str).encode()
    return hashlib.sha256(raw).hexdigest()[:24]


def form_state(schema: Schema, obj: ObjectInfo | None) -> dict[str, Any]:
    """The hidden inputs every designer form carries."""
    return {"schema_version": schema.version, "fingerprint": fingerprint(schema, obj) if obj else ""}


def is_stale(schema: Schema, obj: ObjectInfo) -> bool:
    """Did the object change since the submitted form was rendered?"""
    try:
        version = int(request.form.get("schema_version", ""))
    except ValueError:
        return True
    if version == schema.version:
        return False
    return request.form.get("fingerprint", "") != fingerprint(schema, obj)


def stale_message(obj: ObjectInfo) -> str:
    return _("Someone else changed '%(object)s' while you were editing, so nothing was saved. "
             "The form now shows the current state: check it and make your change again.",
             object=obj.label)


class FormErrors(dict):
    """Input name (engine key such as "label" or "options.length") -> list of messages,
    plus ``general`` messages that belong to no single input."""

    def __init__(self) -> None:
        super().__init__()
        self.general: list[str] = []
        self.usages: list[str] = []
        self.failures: list[dict[str, Any]] = []
        self.total: int | None = None

    def add(self, key: str | None, message: str) -> None:
        if key is None:
            self.general.append(message)
        else:
            self.setdefault(key, []).append(message)

    def __bool__(self) -> bool:
        return bool(len(self) or self.general)

    def messages(self) -> list[tuple[str | None, str]]:
        out: list[tuple[str | None, str]] = [(None, m) for m in self.general]
        out += [(k, m) for k, ms in self.items() for m in ms]
        return out


def collect(exc: CardbaseError, rename: Mapping[str, str] | None = None) -> FormErrors:
    """An engine error as form errors; ``rename`` maps engine keys to form keys."""
    errors = FormErrors()
    rename = rename or {}
    if isinstance(exc, ValidationError):
        for key, messages in exc.errors.items():
            for message in messages:
                errors.add(rename.get(key, key), message)
    elif isinstance(exc, InUse):
        errors.add(None, exc.message.split(": ")[0] if exc.usages else exc.message)
        errors.usages = list(exc.usages)
    elif isinstance(exc, ConversionRefused):
        errors.add(None, exc.message)
        errors.failures = list(exc.failures)
        errors.total = exc.total
    elif isinstance(exc, NotFound):
        errors.add(None, exc.message)
    else:
        errors.add(None, exc.message)
    return errors


def text(name: str, default: str = "") -> str:
    """A form value; browsers send line breaks of text areas as CRLF, stored as LF."""
    return request.form.get(name, default).replace("\r\n", "\n")


def checkbox(name: str) -> bool:
    return request.form.get(name) in ("1", "on", "true", "yes")


def same_translations(current: Mapping[str, Mapping[str, str]], wanted: Mapping[str, Mapping[str, str]]) -> bool:
    now = {lang: {k: v for k, v in texts.items() if v} for lang, texts in current.items()}
    new = {lang: {k: v for k, v in texts.items() if v} for lang, texts in wanted.items()}
    return {k: v for k, v in now.items() if v} == {k: v for k, v in new.items() if v}
