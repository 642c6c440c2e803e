"""From a file's first rows to a mapping: which row is the header, what each column is
called (duplicate names made distinct), and which field each column most likely fills,
proposed from the fields' API names and labels in English and German, or from a mapping
saved for the same headers."""
from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Iterable, Mapping, Sequence

import sqlalchemy as sa
from sqlalchemy import Connection

from ..schema_engine.errors import ValidationError
from ..schema_engine.snapshot import ObjectInfo
from ..schema_engine.transfer_models import ImportMapping
from ..schema_engine.field_types.money import Money
from ..schema_engine.i18n import _

HEADER_SCAN = 10
LANGUAGES = ("en", "de")
# System columns a file may name, in both languages.
SYSTEM_NAMES = {"code": ("code", "nummer", "kennung", "number"), "id": ("id",)}
WRITABLE_SYSTEM = ("code", "id")


def normalise(text: Any) -> str:
    """"E-Mail-Adresse" -> "emailadresse": case, accents, umlauts and punctuation folded."""
    text = str(text or "").strip().casefold()
    text = text.replace("ä", "ae").replace("ö", "oe").replace("ü", "ue").replace("ß", "ss")
    text = unicodedata.normalize("NFKD", text)
    return re.sub(r"[^a-z0-9]", "", "".join(c for c in text if not unicodedata.combining(c)))


def _looks_like_data(cell: Any) -> bool:
    if isinstance(cell, (int, float, date, datetime, Money)):
        return True
    text = str(cell).strip()
    return bool(re.fullmatch(r"[-+]?[\d.,' ]+%?|\d{1,4}[./-]\d{1,2}[./-]\d{1,4}", text))


def detect_header(rows: Sequence[Sequence[Any]]) -> int:
    """Index (0-based) of the header among the first rows: the first row whose cells are
    mostly filled text (not numbers or dates) and about as wide as the data below it."""
    widest = max((sum(1 for c in r if str(c).strip()) for r in rows[:HEADER_SCAN]), default=0)
    for i, row in enumerate(rows[:HEADER_SCAN]):
        filled = [c for c in row if str(c).strip()]
        if not filled or len(filled) * 2 < widest:
            continue
        if sum(1 for c in filled if not _looks_like_data(c)) * 2 >= len(filled):
            return i
    return 0


def column_names(header: Sequence[Any]) -> tuple[list[str], list[str]]:
    """The header's names, made distinct ("Name", "Name (2)"), and a warning per duplicate."""
    names: list[str] = []
    warnings: list[str] = []
    seen: dict[str, int] = {}
    for i, cell in enumerate(header):
        base = str(cell).strip() or f"Column {i + 1}"
        count = seen.get(base.casefold(), 0) + 1
        seen[base.casefold()] = count
        if count > 1:
            warnings.append(f"the header {base!r} appears {count} times; column {i + 1} is called "
                            f"{base + f' ({count})'!r}")
            base = f"{base} ({count})"
        names.append(base)
    return names, warnings


@dataclass(frozen=True)
class Target:
    """A field a column can fill: its API name and the names it is known by."""

    api_name: str
    names: tuple[str, ...]


def targets(obj: ObjectInfo, writable: Any = None) -> list[Target]:
    """The fields of ``obj`` an import can fill, with their names in both languages."""
    out = [Target(name, tuple(normalise(n) for n in (name, *aliases))) for name, aliases in SYSTEM_NAMES.items()]
    for f in obj.user_fields:
        if not f.writable or (writable is not None and not writable(f)):
            continue
        names = {normalise(f.api_name), normalise(f.label)} | {normalise(f.label_in(lang)) for lang in LANGUAGES}
        out.append(Target(f.api_name, tuple(sorted(n for n in names if n))))
    return out


def propose(obj: ObjectInfo, columns: Sequence[str], writable: Any = None,
            saved: Mapping[str, str] | None = None) -> dict[str, str | None]:
    """column -> proposed field api name (None: leave the column out). A saved mapping
    wins; then an exact match of a name, then a close one; each field is proposed once."""
    options = targets(obj, writable)
    known = {t.api_name for t in options}
    proposal: dict[str, str | None] = {}
    taken: set[str] = set()
    for column in columns:
        if saved and saved.get(column) in known and saved[column] not in taken:
            proposal[column] = saved[column]
            taken.add(saved[column])
    for exact in (True, False):
        for column in columns:
            if column in proposal:
                continue
            key = normalise(column)
            for t in options:
                if t.api_name in taken or not key:
                    continue
                hit = key in t.names if exact else bool(difflib.get_close_matches(key, t.names, n=1, cutoff=0.85))
                if hit:
                    proposal[column] = t.api_name
                    taken.add(t.api_name)
                    break
    return {c: proposal.get(c) for c in columns}


def check_mapping(obj: ObjectInfo, columns: Sequence[str], mapping: Mapping[str, Any], writable: Any = None) -> dict[str, str]:
    """The user's mapping checked: known columns, fields that exist and may be written, each
    field once. Returns column -> field for the mapped columns."""
    if not isinstance(mapping, Mapping):
        raise ValidationError({"mapping": "must be an object of column name -> field name"})
    known = {t.api_name for t in targets(obj, writable)}
    errors: dict[str, str] = {}
    out: dict[str, str] = {}
    used: dict[str, str] = {}
    for column, field in mapping.items():
        if field in (None, ""):
            continue
        if column not in columns:
            errors[f"mapping.{column}"] = _("the file has no column %(column)s", column=repr(column))
        elif not isinstance(field, str) or field not in known:
            errors[f"mapping.{column}"] = _("%(field)s is not a field of '%(object)s' an import can fill",
                                            field=repr(field), object=obj.api_name)
        elif field in used:
            errors[f"mapping.{column}"] = _("field %(field)s is filled from column %(column)s already",
                                            field=repr(field), column=repr(used[field]))
        else:
            used[field] = column
            out[column] = field
    if errors:
        raise ValidationError(errors)
    if not out:
        raise ValidationError({"mapping": _("map at least one column to a field")})
    return out


# ---- saved mappings --------------------------------------------------------------------------------
_mappings = ImportMapping.__table__


def save_mapping(conn: Connection, obj: ObjectInfo, name: str, columns: Mapping[str, str],
                 settings: Mapping[str, Any], user_id: int | None) -> int:
    """Keep a mapping for reuse; one of the same name for the object is replaced."""
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise ValidationError({"name": "must be a text of 1 to 200 characters"})
    conn.execute(sa.delete(_mappings).where(_mappings.c.object_id == obj.id, _mappings.c.name == name))
    return int(conn.execute(sa.insert(_mappings).values(
        object_id=obj.id, name=name, columns=dict(columns), settings=dict(settings), created_by=user_id)
        .returning(_mappings.c.id)).scalar_one())


def saved_mappings(conn: Connection, obj: ObjectInfo) -> list[dict[str, Any]]:
    rows = conn.execute(sa.select(_mappings).where(_mappings.c.object_id == obj.id)
                        .order_by(_mappings.c.name)).mappings().all()
    return [{"id": r["id"], "name": r["name"], "columns": r["columns"], "settings": r["settings"]} for r in rows]


def best_saved(saved: Iterable[Mapping[str, Any]], columns: Sequence[str]) -> Mapping[str, str] | None:
    """The saved mapping covering most of these columns (at least one)."""
    best, score = None, 0
    for m in saved:
        hits = sum(1 for c in columns if c in m["columns"])
        if hits > score:
            best, score = m["columns"], hits
    return best
