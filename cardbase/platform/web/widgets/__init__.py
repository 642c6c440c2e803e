"""Form controls of the card: one small class per field type, chosen by the field's type
name (like ``display.py``), so a new type adds one class and touches no template.

A widget owns its control end to end:

* ``to_raw(field, value, language)``  a stored value -> what the control holds ("raw": a
  text, a list of texts, {"id", "display"} for a link; always JSON-compatible, so a form
  can carry the values it was read with and compare them on a conflict);
* ``control(c)``                      the control's HTML for a ``Control`` (id, name, raw,
  disabled, required, invalid ...); the template renders the ``<label for>``;
* ``from_form(form, name)``            the raw value a submitted form carries, or MISSING
  when the control was not submitted (disabled, not shown);
* ``parse(field, raw, language)``      raw -> what the record store takes, or
  FieldValueError with a message (the caller names the field).

Read-only values are not widgets: they render through ``display.render_value``.
"""
from __future__ import annotations

from dataclasses import dataclass, field as dc_field
from typing import Any, Callable, Mapping

from markupsafe import Markup

from cardbase.schema_engine.field_types import FieldValueError
from cardbase.schema_engine.snapshot import FieldInfo

__all__ = ["MISSING", "Control", "FieldValueError", "Widget", "register", "widget_for"]

MISSING = object()
_REGISTRY: dict[str, "Widget"] = {}


def register(*type_names: str) -> Callable[[type["Widget"]], type["Widget"]]:
    def wrap(cls: type["Widget"]) -> type["Widget"]:
        for name in type_names:
            _REGISTRY[name] = cls()
        return cls
    return wrap


@dataclass
class Control:
    """Everything one control needs to render."""

    field: FieldInfo
    name: str                 # the form name (``f-<api name>``; child rows prefix it)
    id: str                   # the element id the <label for> points at
    raw: Any                  # the value as the control holds it (``Widget.to_raw``)
    language: str = "en"
    disabled: bool = False
    required: bool = False
    invalid: bool = False
    described_by: str = ""    # ids of the help text and error messages
    label: str = ""           # the field's label (for controls that repeat it, e.g. aria)
    extra: Mapping[str, Any] = dc_field(default_factory=dict)  # e.g. the link picker's URL

    def attrs(self, *, css: str = "form-control", name: str | None = None) -> Markup:
        """The attributes every control shares."""
        parts = [Markup('id="{}" name="{}" class="{}{}"').format(
            self.id, self.name if name is None else name, css, " is-invalid" if self.invalid else "")]
        if self.disabled:
            parts.append(Markup("disabled"))
        if self.required:
            parts.append(Markup('required aria-required="true"'))
        if self.invalid:
            parts.append(Markup('aria-invalid="true"'))
        if self.described_by:
            parts.append(Markup('aria-describedby="{}"').format(self.described_by))
        return Markup(" ").join(parts)


class Widget:
    """Default: a one-line text input holding the field type's text form."""

    input_type = "text"
    extra_attrs = ""

    def to_raw(self, field: FieldInfo, value: Any, language: str) -> Any:
        if value is None:
            return ""
        return field.ftype.format(field, value, language) if not isinstance(value, str) else value

    def from_form(self, form, name: str) -> Any:
        return form.get(name, MISSING) if name in form else MISSING

    def parse(self, field: FieldInfo, raw: Any, language: str) -> Any:
        if raw is None:
            return None
        text = raw.strip() if isinstance(raw, str) else raw
        return field.ftype.parse(field, text if text != "" else None)

    def same(self, a: Any, b: Any) -> bool:
        """Do two raw values mean the same (the three-way merge of a conflict)?"""
        return _norm(a) == _norm(b)

    def control(self, c: Control) -> Markup:
        length = c.field.options.get("length") if hasattr(c.field, "options") else None
        maxlength = Markup(' maxlength="{}"').format(length) if isinstance(length, int) else Markup("")
        return Markup('<input type="{}" {} value="{}"{}{}>').format(
            self.input_type, c.attrs(), c.raw if c.raw is not None else "", maxlength, Markup(self.extra_attrs))


def _norm(raw: Any) -> Any:
    if isinstance(raw, str):
        return raw.strip()
    if isinstance(raw, (list, tuple)):
        return [_norm(v) for v in raw]
    if raw is None:
        return ""
    return raw


def widget_for(field: FieldInfo) -> Widget:
    return _REGISTRY.get(field.type, _DEFAULT)


_DEFAULT = Widget()

from . import basic, choices, dates, links, numbers  # noqa: E402,F401  (register the widgets)
