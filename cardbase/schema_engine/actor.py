"""Who is acting: every store and schema call takes an Actor, never global request state."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Actor:
    user_id: int | None
    username: str = ""
    group_ids: frozenset[int] = field(default_factory=frozenset)
    is_admin: bool = False
    language: str = "en"

    @property
    def is_system(self) -> bool:
        return self.user_id is None and self.is_admin


# Background jobs, the CLI and solution import act as the system.
SYSTEM = Actor(user_id=None, username="system", is_admin=True)
