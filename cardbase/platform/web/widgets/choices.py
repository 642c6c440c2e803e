"""Choice (a select of the choice labels) and multi-choice (a box per choice)."""
from __future__ import annotations


from markupsafe import Markup

from cardbase.schema_engine.field_types.choice import choices_of

from . import MISSING, Control, Widget, register


@register("choice")
class ChoiceWidget(Widget):
    def to_raw(self, field, value, language):
        return value or ""

    def control(self, c: Control) -> Markup:
        from flask_babel import gettext as _
        choices = list(choices_of(c.field, c.language))  # labelled in the user's language
        known = {ch["value"] for ch in choices}
        options = [Markup('<option value="">{}</option>').format(_("(none)"))]
        if c.raw and c.raw not in known:  # a value no longer among the choices stays visible
            options.append(Markup('<option value="{}" selected>{}</option>').format(c.raw, c.raw))
        for ch in choices:
            options.append(Markup('<option value="{}"{}>{}</option>').format(
                ch["value"], Markup(" selected") if ch["value"] == c.raw else "", ch.get("label") or ch["value"]))
        return Markup('<select {}>{}</select>').format(c.attrs(css="form-select"), Markup("").join(options))


@register("multi_choice")
class MultiChoiceWidget(Widget):
    """Checkboxes; a hidden empty value marks the group as submitted (none ticked)."""

    def to_raw(self, field, value, language):
        return list(value or [])

    def from_form(self, form, name):
        values = form.getlist(name)
        if not values:
            return MISSING
        return [v for v in values if v]

    def parse(self, field, raw, language):
        return field.ftype.parse(field, list(raw or []) or None)

    def same(self, a, b):
        return sorted(a or []) == sorted(b or [])

    def control(self, c: Control) -> Markup:
        chosen = set(c.raw or [])
        boxes = [Markup('<input type="hidden" name="{}" value=""{}>').format(
            c.name, Markup(" disabled") if c.disabled else "")]
        for i, ch in enumerate(choices_of(c.field, c.language)):
            box_id = c.id if i == 0 else f"{c.id}-{i}"
            boxes.append(Markup(
                '<div class="form-check form-check-inline">'
                '<input type="checkbox" class="form-check-input{}" id="{}" name="{}" value="{}"{}{}>'
                '<label class="form-check-label" for="{}">{}</label></div>').format(
                " is-invalid" if c.invalid else "", box_id, c.name, ch["value"],
                Markup(" checked") if ch["value"] in chosen else "", Markup(" disabled") if c.disabled else "",
                box_id, ch.get("label") or ch["value"]))
        return Markup('<div class="cb-multi" role="group"{}>{}</div>').format(
            Markup(' aria-describedby="{}"').format(c.described_by) if c.described_by else "", Markup("").join(boxes))
