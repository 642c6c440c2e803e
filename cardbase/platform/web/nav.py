"""What every page needs: the object menu (plural labels in the power user's order, only
objects the user may read), whether the configurator entry shows, and label helpers that
speak the user's language."""
from __future__ import annotations

from typing import Any

from flask import Flask, g
from flask_login import current_user

from cardbase.schema_engine.rights.admin import can_configure
from cardbase.schema_engine.snapshot import FieldInfo, ObjectInfo
from cardbase.schema_engine.store.records import RecordStore

from ..context import current_actor, get_db
from ..i18n import current_language


def menu() -> list[dict[str, Any]]:
    """The objects the current user may read, by position (cached for the request)."""
    items = g.get("cardbase_menu")
    if items is None:
        language = current_language()
        items = [{"name": o.api_name, "label": o.label_plural_in(language)}
                 for o in RecordStore(get_db()).objects_with(current_actor(), "read")]
        g.cardbase_menu = items
    return items


def shows_configurator() -> bool:
    value = g.get("cardbase_configure")
    if value is None:
        value = g.cardbase_configure = can_configure(get_db(), current_actor())
    return value


def object_label(obj: ObjectInfo, plural: bool = False) -> str:
    language = current_language()
    return obj.label_plural_in(language) if plural else obj.label_in(language)


def field_label(field: FieldInfo) -> str:
    return field.label_in(current_language())


def _page_context() -> dict[str, Any]:
    if not current_user or not current_user.is_authenticated:
        return {}
    return {"nav_menu": menu, "nav_configurator": shows_configurator}


def init_app(app: Flask) -> None:
    app.context_processor(_page_context)
    app.jinja_env.globals.update(object_label=object_label, field_label=field_label)
