"""Users' rights: object, record, field and rule-based access (docs/rights.md).

The definitions live in system tables (``models``); ``model`` loads and caches them per
rights and schema version; ``access.AccessPolicy`` turns them into the row filters
and field masks the record store and its query compiler apply to every channel;
``admin`` changes them; ``explain`` says which rule grants or denies each right.
"""
from __future__ import annotations

from . import usage  # noqa: F401  (registers: removing a field a rule view uses is refused)
from .admin import (can_configure, delete_rule_view, rule_views, save_rule_view, set_access_mode,
                    set_field_right, set_object_rights)
from .explain import explain
from ..rights_models import ACCESS_MODES, FIELD_LEVELS, LEVELS, OBJECT_RIGHTS, bump_rights_version

__all__ = ["ACCESS_MODES", "FIELD_LEVELS", "LEVELS", "OBJECT_RIGHTS", "bump_rights_version", "can_configure",
           "delete_rule_view", "explain", "rule_views", "save_rule_view", "set_access_mode", "set_field_right",
           "set_object_rights"]
