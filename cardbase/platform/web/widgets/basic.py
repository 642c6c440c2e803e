"""Texts, e-mail, phone, URL and yes/no."""
from __future__ import annotations

from typing import Any

from markupsafe import Markup

from . import MISSING, Control, Widget, register


@register("string")
class StringWidget(Widget):
    input_type = "text"


@register("email")
class EmailWidget(Widget):
    input_type = "email"
    extra_attrs = ' autocomplete="email" inputmode="email"'


@register("phone")
class PhoneWidget(Widget):
    input_type = "tel"
    extra_attrs = ' autocomplete="tel" inputmode="tel"'

    def to_raw(self, field, value, language):
        return "" if value is None else str(value)


@register("url")
class UrlWidget(Widget):
    input_type = "url"
    extra_attrs = ' inputmode="url" placeholder="https://"'


@register("text")
class TextWidget(Widget):
    def control(self, c: Control) -> Markup:
        return Markup('<textarea {} rows="4">{}</textarea>').format(c.attrs(), c.raw or "")

    def parse(self, field, raw, language):
        if raw is None:
            return None
        return field.ftype.parse(field, raw.replace("\r\n", "\n") if raw.strip() else None)

    def same(self, a, b):
        return (a or "").replace("\r\n", "\n").strip() == (b or "").replace("\r\n", "\n").strip()


@register("boolean")
class BooleanWidget(Widget):
    """A checkbox, plus a hidden "0" so an unticked box is still submitted."""

    def to_raw(self, field, value, language):
        return "1" if value else ""

    def from_form(self, form, name: str) -> Any:
        values = form.getlist(name)
        if not values:
            return MISSING
        return "1" if "1" in values else ""

    def parse(self, field, raw, language):
        return bool(raw)

    def same(self, a, b):
        return bool(a) == bool(b)

    def control(self, c: Control) -> Markup:
        hidden = Markup('<input type="hidden" name="{}" value="0"{}>').format(
            c.name, Markup(" disabled") if c.disabled else "")
        box = Markup('<input type="checkbox" value="1" {}{}>').format(
            c.attrs(css="form-check-input"), Markup(" checked") if c.raw else "")
        return Markup('<div class="form-check cb-check">{}{}</div>').format(hidden, box)
