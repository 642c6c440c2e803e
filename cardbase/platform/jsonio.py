"""Strict JSON in, compact JSON out.

Input is refused (with a message naming the problem) when it is not UTF-8, not JSON, uses
NaN or Infinity, nests deeper than MAX_DEPTH, has integers beyond the platform's limits,
or contains text a database cannot store: NUL characters and lone UTF-16 surrogates
("\\ud800"), which SQLite's and PostgreSQL's drivers reject with an exception. Everything
else Unicode -- emoji, right-to-left text, combining marks, zero-width characters -- is
valid text and kept exactly.
"""
from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Mapping

from cardbase.schema_engine.values import LinkRef

MAX_DEPTH = 64


class JsonInputError(ValueError):
    """The input is not acceptable JSON; the message says why."""


def _reject_constant(name: str) -> Any:
    raise JsonInputError(f"{name} is not valid JSON (use null or a number)")


def loads(data: bytes | str, what: str | None = "the request body") -> Any:
    """The JSON value of ``data``, or JsonInputError saying why not. The message starts
    with ``what`` ("the request body is not valid JSON: ..."); ``what`` None leaves it out
    ("not valid JSON: ...", "a text at 'value' contains ...") for a caller that names the
    parameter in its own words (the web pages, the designer)."""
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise JsonInputError(_is(what, f"not valid UTF-8 (byte {exc.start})")) from None
    else:
        text = data
    if text.startswith("\ufeff"):
        text = text[1:]
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except JsonInputError as exc:
        raise JsonInputError(_about(what, str(exc))) from None
    except json.JSONDecodeError as exc:
        raise JsonInputError(_is(what, f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})")) from None
    except (ValueError, RecursionError) as exc:  # e.g. an integer of 5,000 digits, or 100,000 nested lists
        reason = "it is nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise JsonInputError(_is(what, f"not acceptable JSON: {reason}")) from None
    problem = check_text(value)
    if problem:
        raise JsonInputError(_about(what, problem))
    return value


def _is(what: str | None, state: str) -> str:
    return state if what is None else f"{what} is {state}"


def _about(what: str | None, problem: str) -> str:
    return problem if what is None else f"{what}: {problem}"


def check_text(value: Any, path: str = "", depth: int = 0) -> str | None:
    """A message for the first text (key or value) that cannot be stored, else None."""
    if depth > MAX_DEPTH:
        return f"nests deeper than {MAX_DEPTH} levels"
    if isinstance(value, str):
        return _bad_text(value, path)
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            problem = _bad_text(key, where, is_key=True) or check_text(item, where, depth + 1)
            if problem:
                return problem
    elif isinstance(value, list):
        for i, item in enumerate(value):
            problem = check_text(item, f"{path}[{i}]", depth + 1)
            if problem:
                return problem
    return None


def _bad_text(text: str, path: str, is_key: bool = False) -> str | None:
    if not text.isascii():
        for ch in text:
            if "\ud800" <= ch <= "\udfff":
                what = "a key" if is_key else "a text"
                return f"{what} at '{_short(path)}' contains a lone UTF-16 surrogate (invalid Unicode)"
    if "\x00" in text:
        return f"the text at '{_short(path)}' contains a NUL character (\\u0000), which cannot be stored"
    return None


def _short(path: str) -> str:
    path = path.encode("utf-8", "replace").decode("utf-8")
    return path if len(path) <= 80 else path[:80] + "…"


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat(timespec="microseconds" if value.microsecond else "seconds") + \
            ("" if value.tzinfo else "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, LinkRef):
        return value.to_json()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


_encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=_default)


def dumps(value: Any) -> str:
    return _encoder.encode(value)


def usable_filter(definition: Mapping[str, Any]) -> tuple[dict[str, Any], str | None]:
    """A stored table or view definition (as the engine names it) without a filter that
    holds text no database can store -- left by an older version or written around the
    API -- and the problem; (the definition, None) when its filter is fine. Running such a
    filter fails in the database driver, and showing it fails when the page is encoded,
    so every reader leaves it out and says so rather than failing for everyone."""
    problem = check_text(definition.get("filter"), "filter")
    if problem is None:
        return dict(definition), None
    return {**definition, "filter": None}, problem
