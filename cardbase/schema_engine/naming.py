"""Names: API names chosen by people (validated), physical names generated from ids.

Physical identifiers never contain user text, so a label or API name with quotes, SQL,
emoji or reserved words can never reach a DDL statement.
"""
from __future__ import annotations

import re
import unicodedata

from .errors import SchemaError

API_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
MAX_LABEL = 200

# Names of the built-in system fields; a user field may not take them.
SYSTEM_FIELD_NAMES = (
    "id", "code", "version", "owner", "created_at", "created_by", "modified_at", "modified_by",
)
RESERVED_FIELD_NAMES = frozenset(SYSTEM_FIELD_NAMES + ("deleted_at", "deleted_by", "search", "display", "q"))
RESERVED_OBJECT_NAMES = frozenset({"auth", "objects", "users", "groups", "records", "meta", "api", "static"})


def table_name(object_id: int) -> str:
    return f"obj_{object_id}"


def column_name(field_id: int, suffix: str = "") -> str:
    return f"f{field_id}_{suffix}" if suffix else f"f{field_id}"


def links_table_name(field_id: int) -> str:
    """The junction table of a multi-link field (its values: source_id -> target_id)."""
    return f"lnk_{field_id}"


def fts_table_name(object_id: int) -> str:
    return f"obj_{object_id}_fts"


def sequence_name(kind: str, ident: int) -> str:
    """``kind`` is "code" (an object's Code) or "auto" (an autonumber field)."""
    return f"seq_{kind}_{ident}"


def check_api_name(name: object, what: str, reserved: frozenset[str] = frozenset()) -> str:
    """Validate an API name; the error names the attribute and the rule broken."""
    key = f"{what}.name" if what else "name"
    if not isinstance(name, str) or not name:
        raise SchemaError({key: "is required"})
    if len(name) > 63:
        raise SchemaError({key: f"is {len(name)} characters long; at most 63 are allowed"})
    if not API_NAME_RE.match(name):
        raise SchemaError({key: (
            f"'{name}' is not a valid API name: use lower-case letters a-z, digits and '_', "
            "starting with a letter")})
    if name in reserved:
        raise SchemaError({key: f"'{name}' is reserved"})
    return name


def check_label(label: object, key: str) -> str:
    if not isinstance(label, str) or not label.strip():
        raise SchemaError({key: "is required"})
    label = label.strip()
    if len(label) > MAX_LABEL:
        raise SchemaError({key: f"is {len(label)} characters long; at most {MAX_LABEL} are allowed"})
    if any(unicodedata.category(c) == "Cc" for c in label):
        raise SchemaError({key: "must not contain control characters"})
    return label


def propose_api_name(label: str, fallback: str = "item") -> str:
    """An API name proposed from a label: "Contact person" -> "contact_person"."""
    text = unicodedata.normalize("NFKD", label)
    text = text.replace("ß", "ss")
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = re.sub(r"[^a-zA-Z0-9]+", "_", text).strip("_").lower()
    if not text or not text[0].isalpha():
        text = f"{fallback}_{text}".strip("_")
    return text[:63].rstrip("_") or fallback
