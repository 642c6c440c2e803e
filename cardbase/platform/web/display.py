"""How a stored value shows on a page: one small class per field type, chosen by the
field's type name, so a new type adds one class here and touches no template.

Everything user-typed is escaped (``markupsafe.escape``); only the markup written here is
trusted. Colours of choices are palette classes (``cb-color-green``) or, for #rrggbb,
a ``data-color`` attribute that cardbase.js applies — the Content-Security-Policy allows
no inline styles or scripts.
"""
from __future__ import annotations

from typing import Any, Callable
from urllib.parse import quote, urlsplit

from flask import current_app, url_for
from markupsafe import Markup, escape

from cardbase.schema_engine.field_types.choice import PALETTE, choices_of
from cardbase.schema_engine.snapshot import FieldInfo, Schema
from cardbase.schema_engine.values import LinkRef

from .icons import icon

_REGISTRY: dict[str, "Display"] = {}


def register(*type_names: str) -> Callable[[type["Display"]], type["Display"]]:
    def wrap(cls: type["Display"]) -> type["Display"]:
        for name in type_names:
            _REGISTRY[name] = cls()
        return cls
    return wrap


class Display:
    """Default: the field type's own text form (locale-aware), escaped."""

    align = "start"

    def html(self, schema: Schema, field: FieldInfo, value: Any, language: str) -> Markup:
        if value is None or value == "" or value == []:
            return Markup("")
        return escape(field.ftype.format(field, value, language))

    def text(self, field: FieldInfo, value: Any, language: str) -> str:
        if value is None:
            return ""
        if isinstance(value, LinkRef):
            return value.display or ""
        return field.ftype.format(field, value, language)


@register("integer", "decimal", "money")
class NumberDisplay(Display):
    align = "end"


def align_for(field: FieldInfo) -> str:
    """How a column lines up: by the value's type, so numbers are right-aligned whatever
    makes them (formulas and rollups over numbers too) and codes ("ORD-00001"), being
    text, are left-aligned."""
    return "end" if field.ftype.value_type == "number" else "start"


@register("boolean")
class BooleanDisplay(Display):
    def html(self, schema, field, value, language):
        if value is None:
            return Markup("")
        label = field.ftype.format(field, value, language)
        return Markup('<span class="cb-bool cb-bool-{}" title="{}">{}</span>').format(
            "yes" if value else "no", label, "✓" if value else "✗")


def _badge(field: FieldInfo, value: str, language: str | None = None) -> Markup:
    choice = next((c for c in choices_of(field, language) if c["value"] == value), None)
    label = choice["label"] if choice else value
    color = (choice or {}).get("color") or "gray"
    if color in PALETTE:
        return Markup('<span class="badge cb-badge cb-color-{}">{}</span>').format(color, label)
    return Markup('<span class="badge cb-badge" data-color="{}">{}</span>').format(color, label)


@register("choice")
class ChoiceDisplay(Display):
    def html(self, schema, field, value, language):
        return _badge(field, value, language) if value else Markup("")


@register("multi_choice")
class MultiChoiceDisplay(Display):
    def html(self, schema, field, value, language):
        return Markup(" ").join(_badge(field, v, language) for v in value or ())


@register("link", "user", "created_by", "modified_by")
class LinkDisplay(Display):
    """A link to the target's card; "restricted" when the user may not see the target."""

    def html(self, schema, field, value, language):
        if value is None:
            return Markup("")
        if not isinstance(value, LinkRef):
            return escape(str(value))
        if value.restricted:
            from flask_babel import gettext as _
            return Markup('<span class="cb-restricted text-body-secondary">{}\u00a0{}</span>').format(
                icon("lock"), _("restricted"))
        text = value.display if value.display not in (None, "") else f"#{value.id}"
        if field.type != "link" or "cards.card" not in current_app.view_functions:
            return escape(text)  # (no link while the card screen is not registered)
        target = schema.link_target(field)
        return Markup('<a href="{}">{}</a>').format(
            url_for("cards.card", object_name=target.api_name, record_id=value.id), text)


@register("links")
class MultiLinkDisplay(Display):
    """A multi-link: the linked records' names, comma-separated, each a link to its card;
    targets the reader may not see show as "restricted" (and are left out of exports)."""

    def html(self, schema, field, value, language):
        if not value:
            return Markup("")
        single = display_for_type("link")
        return Markup(", ").join(_as_link(single, schema, field, ref, language) for ref in value)

    def text(self, field, value, language):
        return ", ".join(ref.display or f"#{ref.id}" if isinstance(ref, LinkRef) else f"#{ref}"
                         for ref in value or () if not (isinstance(ref, LinkRef) and ref.restricted))


def _as_link(single: "Display", schema: Schema, field: FieldInfo, ref: Any, language: str) -> Markup:
    if not isinstance(ref, LinkRef):
        return escape(f"#{ref}")
    if ref.restricted or "cards.card" not in current_app.view_functions:
        return single.html(schema, field, ref, language)
    target = schema.link_target(field)
    text = ref.display if ref.display not in (None, "") else f"#{ref.id}"
    return Markup('<a href="{}">{}</a>').format(
        url_for("cards.card", object_name=target.api_name, record_id=ref.id), text)


@register("email")
class EmailDisplay(Display):
    def html(self, schema, field, value, language):
        if not value:
            return Markup("")
        return Markup('<a href="mailto:{}">{}</a>').format(quote(value, safe="@.+-_"), value)


@register("phone")
class PhoneDisplay(Display):
    def html(self, schema, field, value, language):
        if not value:
            return Markup("")
        shown = field.ftype.format(field, value, language)
        return Markup('<a href="tel:{}">{}</a>').format("".join(c for c in str(value) if c in "+0123456789"), shown)


@register("url")
class UrlDisplay(Display):
    def html(self, schema, field, value, language):
        if not value:
            return Markup("")
        if urlsplit(str(value)).scheme.lower() not in ("http", "https"):
            return escape(value)  # never a javascript: or data: link
        return Markup('<a href="{}" rel="noopener noreferrer nofollow" target="_blank">{}</a>').format(value, value)


@register("text")
class LongTextDisplay(Display):
    def html(self, schema, field, value, language):
        if not value:
            return Markup("")
        return Markup('<span class="cb-text">{}</span>').format(value)


def display_for(field: FieldInfo) -> Display:
    return _REGISTRY.get(field.type, _DEFAULT)


def display_for_type(type_name: str) -> Display:
    return _REGISTRY.get(type_name, _DEFAULT)


_DEFAULT = Display()


def render_value(schema: Schema, field: FieldInfo, value: Any, language: str) -> Markup:
    """The HTML of one value (a table cell, a read-only card value, a board card line)."""
    return display_for(field).html(schema, field, value, language)
