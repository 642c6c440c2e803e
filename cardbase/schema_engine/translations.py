"""Object and field labels -- and choice labels -- in other languages.

An English setup can carry German labels (and the other way round): the user's language
picks the label, the base label is the fallback. The texts live in cb_translation, so
renaming, retyping or exporting a field never has to know about them. A choice field's
labels are translated under the keys "choice.<value>" ("choice.won": "Gewonnen"), beside
its label and help text; a solution carries them like any other text.
"""
from __future__ import annotations

from typing import Any, Collection, Mapping

import sqlalchemy as sa
from sqlalchemy import Connection

from . import naming
from .errors import SchemaError
from .meta_models import Translation
from .field_types.choice import CHOICE_KEY
from .snapshot import FieldInfo, ObjectInfo

LANGUAGES = ("en", "de")
OBJECT_KEYS = ("label", "label_plural")
FIELD_KEYS = ("label", "help_text")
MAX_HELP = 2000


def clean_translations(texts: Any, keys: tuple[str, ...], prefix: str = "translations",
                       choices: Collection[str] = ()) -> dict[str, dict[str, str]]:
    """``{"de": {"label": "Firma"}}`` checked: known languages and keys, sensible texts.
    ``choices``: the values of a choice field, whose labels translate as "choice.<value>".
    Empty texts are dropped (the base label shows)."""
    if not isinstance(texts, Mapping):
        raise SchemaError({prefix: 'must be an object like {"de": {"label": "..."}}'})
    out: dict[str, dict[str, str]] = {}
    for language, entries in texts.items():
        key = f"{prefix}.{language}"
        if language not in LANGUAGES:
            raise SchemaError({key: f"is not a language of cardbase ({', '.join(LANGUAGES)})"})
        if not isinstance(entries, Mapping):
            raise SchemaError({key: f"must be an object with {', '.join(keys)}"})
        for name, text in entries.items():
            if isinstance(name, str) and name.startswith(CHOICE_KEY) and name not in keys:
                if name[len(CHOICE_KEY):] not in choices:
                    raise SchemaError({f"{key}.{name}": f"'{name[len(CHOICE_KEY):][:40]}' is not a choice of this field"
                                       + (f" ({', '.join(list(choices)[:20])})" if choices else "")})
            elif name not in keys:
                raise SchemaError({f"{key}.{name}": f"is not translatable here ({', '.join(keys)})"})
            if text is None or (isinstance(text, str) and not text.strip()):
                continue
            if name == "help_text":
                if not isinstance(text, str) or len(text) > MAX_HELP:
                    raise SchemaError({f"{key}.{name}": f"must be a text of at most {MAX_HELP} characters"})
                cleaned = text.strip()
            else:
                cleaned = naming.check_label(text, f"{key}.{name}")
            out.setdefault(language, {})[name] = cleaned
    return out


def replace_translations(conn: Connection, obj: ObjectInfo, field: FieldInfo | None,
                         texts: Mapping[str, Mapping[str, str]]) -> None:
    """Replace every translation of the object (``field`` None) or of one field."""
    field_id = field.id if field is not None else None
    where = [Translation.object_id == obj.id,
             Translation.field_id == field_id if field_id is not None else Translation.field_id.is_(None)]
    conn.execute(sa.delete(Translation).where(*where))
    rows = [{"object_id": obj.id, "field_id": field_id, "language": language, "key": key, "text": text}
            for language, entries in texts.items() for key, text in entries.items()]
    if rows:
        conn.execute(sa.insert(Translation), rows)


def plain(texts: Mapping[str, Mapping[str, str]]) -> dict[str, dict[str, str]]:
    """The snapshot's read-only mapping as plain dicts (for JSON)."""
    return {language: dict(entries) for language, entries in texts.items()}
