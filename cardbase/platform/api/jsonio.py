"""The API's strict JSON reader and compact writer: ``cardbase.platform.jsonio`` (one
implementation, shared with the web pages and the designer, which read JSON from forms
and URLs the same way)."""
from __future__ import annotations

from cardbase.platform.jsonio import MAX_DEPTH, JsonInputError, check_text, dumps, loads

__all__ = ["MAX_DEPTH", "JsonInputError", "check_text", "dumps", "loads"]
