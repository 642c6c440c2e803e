"""The admin policy: who may administer accounts, groups, rights, solutions and the menu.

One object answers for every channel (engine services, CLI, REST API, designer), so the
rule and its message are written once. A refusal is ``Forbidden`` naming what was
refused: "only administrators may create users".
"""
from __future__ import annotations

from ..actor import Actor
from ..errors import Forbidden


class AdminPolicy:
    """Administrators (and the system actor of the CLI and background jobs) administer;
    everybody else may only look after their own account."""

    def is_admin(self, actor: Actor) -> bool:
        return bool(actor.is_admin)

    def require_admin(self, actor: Actor, what: str) -> None:
        """Forbidden("only administrators may <what>") unless the actor is an admin."""
        if not self.is_admin(actor):
            raise Forbidden(f"only administrators may {what}")

    def require_self_or_admin(self, actor: Actor, user_id: int | None, what: str) -> None:
        """The actor's own account, or an admin acting on anyone's."""
        if actor.user_id is None or actor.user_id != user_id:
            self.require_admin(actor, what)


ADMIN = AdminPolicy()
