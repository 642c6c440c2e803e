"""Small value classes records carry between the store and every channel."""
from __future__ import annotations

from typing import NamedTuple


class LinkRef(NamedTuple):
    """A link as read: the target's id and how the target names itself.

    ``display`` is None when the target is gone or (later) not visible to the reader;
    ``restricted`` tells the two apart for rights."""

    id: int
    display: str | None = None
    restricted: bool = False

    def to_json(self) -> dict:
        out = {"id": self.id, "display": self.display}
        if self.restricted:
            out["restricted"] = True
        return out
