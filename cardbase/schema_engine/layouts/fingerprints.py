"""Fingerprints of cards, table designs and saved views as they were read, for optimistic
locking of their saves: the API sends one as the ETag, and a save given the fingerprint
the caller read (If-Match) is refused with a Conflict when the fingerprint computed now,
in the saving transaction, differs -- someone else changed it meanwhile."""
from __future__ import annotations

import hashlib
import json
from typing import Any, Iterable, Mapping

from ..errors import Conflict


def fingerprint(*parts: Any) -> str:
    """A short digest of JSON-like parts (key order does not matter)."""
    text = json.dumps(parts, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def check_unchanged(expected: str | Iterable[str] | None, current: Mapping[str, Any], tag: str, what: str) -> None:
    """Refuse a save (Conflict, 409, with ``current``) when the caller read another state
    than ``current``, whose fingerprint is ``tag``. ``expected`` None: the caller did not
    say (the last write wins)."""
    if expected is None:
        return
    tags = {expected} if isinstance(expected, str) else set(expected)
    if tag not in tags:
        raise Conflict(f"{what} was changed by someone else since you read it, so nothing was saved: "
                       "read it again and make your change on the current state", current)
