"""Whole numbers, decimals and money, typed the way the user's language writes them: a
German user types 1.234,56, an English one 1,234.56 (both also plain 1234.56)."""
from __future__ import annotations

import re
from decimal import Decimal

from flask_babel import gettext as _
from markupsafe import Markup

from cardbase.schema_engine.field_types import FieldValueError
from cardbase.schema_engine.field_types.decimal import format_number, shown
from cardbase.schema_engine.field_types.money import CURRENCIES, allowed_currencies

from . import MISSING, Control, Widget, register


def separators(language: str) -> tuple[str, str]:
    """(decimal separator, group separator) of a language."""
    return (",", ".") if (language or "").lower().startswith("de") else (".", ",")


def parse_localized(text: str, language: str) -> Decimal | None:
    """"1.234,56" (de) / "1,234.56" (en) / "1234.56" / "-12,5" -> Decimal; "" -> None."""
    s = (text or "").strip().replace("\u00a0", "").replace("\u202f", "").replace(" ", "").replace("\u2212", "-")
    if not s:
        return None
    dec, group = separators(language)
    sign = ""
    if s[:1] in "+-":
        sign, s = s[0], s[1:]
    if dec == "," and "," not in s and s.count(".") == 1 and not re.fullmatch(r"\d{1,3}\.\d{3}", s):
        dec, group = ".", ","  # "12.5" typed by a German user: a decimal point, not a group
    int_part, _sep, frac = s.partition(dec)
    if group in int_part:
        if not re.fullmatch(r"\d{1,3}(?:" + re.escape(group) + r"\d{3})+", int_part):
            raise FieldValueError(_("%(value)s is not a number", value=shown(text)))
        int_part = int_part.replace(group, "")
    if not re.fullmatch(r"\d*", int_part) or not re.fullmatch(r"\d*", frac) or not (int_part or frac) \
            or (dec in s and not frac and not int_part):
        example = "1.234,56" if separators(language)[0] == "," else "1,234.56"
        raise FieldValueError(_("%(value)s is not a number (write it like %(example)s)", value=shown(text), example=example))
    return Decimal(f"{sign}{int_part or '0'}.{frac or '0'}")


@register("decimal")
class DecimalWidget(Widget):
    input_mode = "decimal"

    def to_raw(self, field, value, language):
        return "" if value is None else field.ftype.format(field, value, language)

    def parse(self, field, raw, language):
        number = parse_localized(raw, language) if isinstance(raw, str) else raw
        return field.ftype.parse(field, number)

    def same(self, a, b):
        return (a or "").strip() == (b or "").strip()

    def control(self, c: Control) -> Markup:
        return Markup('<input type="text" inputmode="{}" {} value="{}">').format(
            self.input_mode, c.attrs(css="form-control cb-number"), c.raw or "")


@register("integer")
class IntegerWidget(DecimalWidget):
    input_mode = "numeric"

    def parse(self, field, raw, language):
        number = parse_localized(raw, language) if isinstance(raw, str) else raw
        if number is not None and number != number.to_integral_value():
            raise FieldValueError(_("%(value)s is not a whole number", value=shown(raw)))
        return field.ftype.parse(field, None if number is None else int(number))


@register("money")
class MoneyWidget(Widget):
    """Amount and currency: raw is [amount text, currency code]."""

    def to_raw(self, field, value, language):
        currency = field.options.get("currency", "EUR")
        if value is None:
            return ["", currency]
        scale = field.options.get("scale", 2)
        return [format_number(value.amount, scale, language), value.currency]

    def from_form(self, form, name):
        if name not in form:
            return MISSING
        return [form.get(name, ""), form.get(name + "-currency", "") or ""]

    def parse(self, field, raw, language):
        amount_text, currency = (list(raw) + ["", ""])[:2] if isinstance(raw, (list, tuple)) else (raw, "")
        amount = parse_localized(amount_text, language)
        if amount is None:
            return None
        return field.ftype.parse(field, {"amount": amount, "currency": (currency or "").strip()
                                         or field.options.get("currency", "EUR")})

    def same(self, a, b):
        a, b = list(a or ["", ""]), list(b or ["", ""])
        if not (a[0] or "").strip() and not (b[0] or "").strip():
            return True
        return [(x or "").strip().upper() for x in a] == [(x or "").strip().upper() for x in b]

    def control(self, c: Control) -> Markup:
        amount, currency = (list(c.raw or ["", ""]) + ["", ""])[:2]
        default = c.field.options.get("currency", "EUR")
        allowed = allowed_currencies(c.field)
        if allowed is not None and len(allowed) == 1:  # a fixed currency: shown, not chosen
            return Markup('<div class="input-group cb-money">'
                          '<input type="text" inputmode="decimal" {} value="{}">'
                          '<span class="input-group-text cb-currency">{}</span>'
                          '<input type="hidden" name="{}-currency" value="{}"></div>').format(
                c.attrs(css="form-control cb-number"), amount or "", allowed[0], c.name, allowed[0])
        offered = set(allowed) if allowed is not None else {"EUR", "USD", "GBP", "CHF"} & CURRENCIES
        codes = sorted({default, currency or default} | offered)
        options = Markup("").join(
            Markup('<option value="{}"{}>{}</option>').format(code, Markup(" selected") if code == (currency or default)
                                                              else "", code) for code in codes)
        return Markup('<div class="input-group cb-money">'
                      '<input type="text" inputmode="decimal" {} value="{}">'
                      '<select class="form-select cb-currency" name="{}-currency" aria-label="{}"{}>{}</select>'
                      '</div>').format(c.attrs(css="form-control cb-number"), amount or "", c.name,
                                       _currency_label(c.label), Markup(" disabled") if c.disabled else "", options)


def _currency_label(label: str) -> str:
    from flask_babel import gettext as _
    return _("Currency of %(field)s", field=label)
