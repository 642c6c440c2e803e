"""Users and groups as the platform imports them: the engine's account services
(``schema_engine.accounts``), which apply the one admin policy for every channel.

``create_user`` and ``set_password`` keep their short forms here and act as the system
(the CLI, ``cardbase init``, setup scripts and tests); a channel acting for a signed-in
user passes ``actor=`` or calls the engine service with its actor.
"""
from __future__ import annotations

from typing import Any

from cardbase.schema_engine.accounts import users as _users
from cardbase.schema_engine.accounts.groups import (add_member, create_group, delete_group, group_members,
                                                    list_groups, remove_member, update_group)
from cardbase.schema_engine.accounts.users import (EMAIL_RE, LANGUAGES, MAX_PASSWORD, SELF_CHANGES, USER_CHANGES,
                                                   LoginThrottled, UserRow, authenticate, count_users, deactivate_user,
                                                   end_session, find_user, get_user, group_ids, start_session,
                                                   update_user, user_for_session, validate_password, validate_username)
from cardbase.schema_engine.actor import SYSTEM, Actor
from cardbase.schema_engine.db import Database
from cardbase.schema_engine.errors import Forbidden, NotFound, ValidationError
from cardbase.schema_engine.meta_models import User


def create_user(db: Database, username: str, password: str, *, actor: Actor = SYSTEM, **options: Any) -> UserRow:
    """``accounts.users.create_user``, by default as the system."""
    return _users.create_user(db, actor, username, password, **options)


def set_password(db: Database, username: str, password: str, *, actor: Actor = SYSTEM) -> UserRow:
    """``accounts.users.set_password`` (a reset: sessions and session tokens end), by
    default as the system."""
    return _users.set_password(db, actor, username, password)


__all__ = ["EMAIL_RE", "LANGUAGES", "MAX_PASSWORD", "SELF_CHANGES", "USER_CHANGES",
           "Forbidden", "LoginThrottled", "NotFound",
           "User", "UserRow", "ValidationError", "add_member", "authenticate", "count_users", "create_group", "create_user",
           "deactivate_user", "delete_group", "end_session", "find_user", "get_user", "group_ids",
           "group_members", "list_groups", "remove_member", "set_password", "start_session",
           "update_group", "update_user", "user_for_session", "validate_password", "validate_username"]
