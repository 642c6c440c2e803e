"""What every page needs: the object menu (plural labels in the power user's order, only
objects the user may read), whether the configurator entry shows, and label helpers that
speak the user's language. Both questions go to the request's one engine session."""
from __future__ import annotations

from typing import Any

from flask import Flask, g
from flask_login import current_user

from cardbase.schema_engine.snapshot import FieldInfo, ObjectInfo

from ..context import engine_session
from .card_visibility import visible_tabs
from ..i18n import current_language


def menu() -> list[dict[str, Any]]:
    """The objects the current user may read, by position (cached for the request)."""
    items = g.get("cardbase_menu")
    if items is None:
        language = current_language()
        items = [{"name": o.api_name, "label": o.label_plural_in(language)}
                 for o in engine_session().objects_with("read")]
        g.cardbase_menu = items
    return items


def may_configure_anything() -> bool:
    """Does the configurator entry show? As ``rights.admin.can_configure`` decides: admins
    always, others with the configure right on any object -- asked of the request's session."""
    value = g.get("cardbase_configure")
    if value is None:
        s = engine_session()
        value = g.cardbase_configure = s.actor.is_admin or any(s.can(o, "configure") for o in s.schema.objects)
    return value


shows_configurator = may_configure_anything


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
    app.jinja_env.globals.update(object_label=object_label, field_label=field_label, visible_tabs=visible_tabs)
