"""Fixed-point decimal numbers. Values are ``decimal.Decimal`` quantized to the field's
scale: floats would turn 0.1 + 0.2 into 0.30000000000000004 in a sum or an invoice.

The number helpers here (strict and spreadsheet parsing, locale formatting) are shared
with the integer and money types.
"""
from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation
from typing import Any, Mapping

import marshmallow as ma
import sqlalchemy as sa

from .base import ORDERED, FieldType, FieldValueError
from .options import INT, TEXT, OptionSpec, _l
from .registry import register
from ..errors import SchemaError
from ..i18n import _

DEFAULT_PRECISION = 18
DEFAULT_SCALE = 2
MAX_PRECISION = 38
_CTX = Context(prec=MAX_PRECISION + 20, rounding=ROUND_HALF_UP)

_CANONICAL = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_ALL_GROUP_SEPS = " .,'"


def shown(raw: Any, limit: int = 40) -> str:
    """A user value for an error message: quoted text, shortened."""
    if isinstance(raw, str):
        return "'" + (raw if len(raw) <= limit else raw[:limit] + "…") + "'"
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, (int, float, Decimal)):
        return str(raw)
    if isinstance(raw, dict):
        return _("an object")
    return _("a list") if isinstance(raw, (list, tuple)) else f"a {type(raw).__name__}"


def to_decimal(raw: Any) -> Decimal:
    """A JSON/Python number or canonical number text ("-1234.5", "1e3") -> finite Decimal.
    No thousands separators or decimal commas here: those are for ``parse_number_text``."""
    if isinstance(raw, bool):
        raise FieldValueError(_('%(value)s is not a number', value=shown(raw)))
    if isinstance(raw, Decimal):
        value = raw
    elif isinstance(raw, int):
        value = Decimal(raw)
    elif isinstance(raw, float):
        value = Decimal(repr(raw))  # shortest form: 0.1 stays 0.1
    elif isinstance(raw, str):
        text = raw.strip()
        if len(text) > 100 or not _CANONICAL.match(text):
            if text.lower().lstrip("+-") in ("nan", "inf", "infinity"):
                raise FieldValueError(_("must be a finite number (not NaN or infinity)"))
            raise FieldValueError(_('%(value)s is not a number (write it like 1234.56)', value=shown(raw)))
        try:
            value = Decimal(text)
        except InvalidOperation:  # an exponent beyond Decimal's range: 1E483271600983896088110407989
            raise FieldValueError(_('%(value)s is out of range (its exponent is too large)', value=shown(raw))) from None
    else:
        raise FieldValueError(_('must be a number, not %(value)s', value=shown(raw)))
    if not value.is_finite():
        raise FieldValueError(_("must be a finite number (not NaN or infinity)"))
    return value


def quantize(value: Decimal, precision: int, scale: int) -> Decimal:
    """Round half up to ``scale`` places; refuse more than ``precision - scale`` integer digits."""
    max_int = precision - scale
    if value.adjusted() >= MAX_PRECISION + 5:
        raise FieldValueError(_('is too large: at most %(max_int)s digits before the decimal point are allowed', max_int=max_int))
    q = value.quantize(Decimal(1).scaleb(-scale), context=_CTX)
    int_digits = q.adjusted() + 1 if q and q.adjusted() >= 0 else 0
    if int_digits > max_int:
        raise FieldValueError(
            _('has %(int_digits)s digits before the decimal point; at most %(max_int)s are allowed',
              int_digits=int_digits, max_int=max_int))
    return q.copy_abs() if q.is_zero() else q


def _ungroup(int_part: str, seps: str) -> str:
    """'1.234.567' -> '1234567' if the groups are well formed, else FieldValueError."""
    if not any(c in int_part for c in seps):
        return int_part
    sep = next(c for c in int_part if c in seps)
    if not re.fullmatch(r"\d{1,3}(?:" + re.escape(sep) + r"\d{3})+", int_part):
        raise ValueError
    return int_part.replace(sep, "")


def parse_number_text(text: str) -> Decimal:
    """Spreadsheet text -> Decimal. Understands "12,50", "1.234,50", "1,234.50", "1 234,5",
    "1'234.50" and "1e3". Rules: with both "." and "," the last one is the decimal
    separator; a repeated separator groups thousands; a single "." is a decimal point;
    a single "," is a decimal comma, except "1,234" (one comma and three digits), which
    means 1234 in English and 1.234 in German and is refused as ambiguous."""
    s = text.strip().replace("\u00a0", " ").replace("\u202f", " ").replace("\u2212", "-")
    sign = ""
    if s[:1] in ("+", "-"):
        sign, s = s[0], s[1:].strip()
    if _CANONICAL.match(s):
        return to_decimal(sign + s)
    if re.fullmatch(r"[1-9]\d{0,2},\d{3}", s):
        raise FieldValueError(
            _('%(value)s is ambiguous: write 1234 or 1,234.00 (English) or 1.234,00 (German)', value=shown(text)))
    dots, commas = s.count("."), s.count(",")
    if dots and commas:
        dec = "." if s.rfind(".") > s.rfind(",") else ","
    elif commas == 1:
        dec = ","
    elif dots == 1:
        dec = "."
    else:
        dec = ""
    int_part, _sep, frac = s.partition(dec) if dec else (s, "", "")
    try:
        int_ok = int_part == "" or re.fullmatch(r"\d([\d .,']*\d)?", int_part)
        frac_ok = frac == "" or re.fullmatch(r"\d+", frac)
        if not (int_ok and frac_ok and (int_part or frac)):
            raise ValueError
        digits = _ungroup(int_part, _ALL_GROUP_SEPS.replace(dec, "") if dec else _ALL_GROUP_SEPS)
        return to_decimal(f"{sign}{digits or '0'}.{frac or '0'}")
    except (ValueError, InvalidOperation):
        raise FieldValueError(_('%(value)s is not a number', value=shown(text))) from None


def format_number(value: Decimal | int, scale: int | None, locale: str = "en") -> str:
    """1234.5 -> "1,234.50" (en) or "1.234,50" (de)."""
    text = f"{value:,.{scale}f}" if scale is not None else f"{value:,}"
    if (locale or "").lower().startswith("de"):
        text = text.translate(str.maketrans(",.", ".,"))
    return text


# ---- minimum and maximum of number fields ------------------------------------------------------
# (a probability 0..100, a quantity of at least 1): two options declared once for whole
# numbers, decimals and money, checked when a value is written (FieldType.check_value),
# never when a filter compares with a value.
def _limit(raw: Any) -> str:
    """A limit as canonical number text ("0", "99.5"); ValueError names the problem."""
    if isinstance(raw, bool):
        raise ValueError(_("must be a number"))
    try:
        value = to_decimal(raw if not isinstance(raw, str) else raw.strip())
    except FieldValueError as exc:
        raise ValueError(str(exc)) from None
    return format(value.normalize(), "f")


def _whole_limit(raw: Any) -> str:
    text = _limit(raw)
    if Decimal(text) != Decimal(text).to_integral_value():
        raise ValueError(_("must be a whole number"))
    return text


def limit_options(whole: bool = False) -> tuple[OptionSpec, ...]:
    check = _whole_limit if whole else _limit
    return (
        OptionSpec("minimum", TEXT, check=check, max_length=40, label=_l("Smallest allowed value"),
                   help=_l("empty: no limit"), doc="values below are refused when a record is saved"),
        OptionSpec("maximum", TEXT, check=check, max_length=40, label=_l("Largest allowed value"),
                   help=_l("empty: no limit"), doc="values above are refused when a record is saved"),
    )


def check_limit_options(options: dict[str, Any]) -> dict[str, Any]:
    """Refuse a minimum greater than the maximum, naming the maximum."""
    low, high = options.get("minimum"), options.get("maximum")
    if low is not None and high is not None and Decimal(low) > Decimal(high):
        raise SchemaError({"options.maximum": _(
            "must not be less than the minimum (%(minimum)s)", minimum=low)})
    return options


def check_in_limits(field, number: Decimal | int | None, scale: int | None, locale: str = "en") -> None:
    """FieldValueError when ``number`` is below the field's minimum or above its maximum."""
    if number is None:
        return
    options: Mapping[str, Any] = field.options
    low, high = options.get("minimum"), options.get("maximum")
    if low is not None and number < Decimal(low):
        raise FieldValueError(_("must be at least %(minimum)s", minimum=_shown(low, scale)))
    if high is not None and number > Decimal(high):
        raise FieldValueError(_("must be at most %(maximum)s", maximum=_shown(high, scale)))


def _shown(limit: str, scale: int | None) -> str:
    value = Decimal(limit)
    return format_number(value, scale if value != value.to_integral_value() else 0)


@register
class DecimalType(FieldType):
    """A number with a fixed number of decimal places (prices, quantities, rates)."""

    name = "decimal"
    label = _l("Decimal number")
    operators = ORDERED
    indexed = True  # lists sort and filter by amounts (deals by value): an index serves both
    value_type = "number"

    options = (
        OptionSpec("precision", INT, default=DEFAULT_PRECISION, minimum=1, maximum=MAX_PRECISION,
                   label=_l("Digits in total (precision)"), help=_l("default 18")),
        OptionSpec("scale", INT, default=DEFAULT_SCALE, minimum=0, maximum_of="precision",
                   label=_l("Decimal places"), help=_l("default 2")),
    ) + limit_options()

    def finish_options(self, options, ctx):
        return check_limit_options(options)

    def check_value(self, field, value: Decimal | None) -> None:
        check_in_limits(field, value, self._ps(field)[1])

    @staticmethod
    def _ps(field) -> tuple[int, int]:
        return field.options.get("precision", DEFAULT_PRECISION), field.options.get("scale", DEFAULT_SCALE)

    def sa_type(self, field) -> sa.types.TypeEngine:
        return sa.Numeric(*self._ps(field), asdecimal=True)

    def marshmallow_field(self, field) -> ma.fields.Field:
        return ma.fields.Decimal(as_string=True, places=self._ps(field)[1], rounding=ROUND_HALF_UP,
                                 allow_nan=False, allow_none=True)

    def parse(self, field, raw: Any) -> Decimal | None:
        if self.is_empty(raw):
            return None
        return quantize(to_decimal(raw), *self._ps(field))

    def to_json(self, field, value: Decimal | None) -> str | None:
        return None if value is None else f"{value:.{self._ps(field)[1]}f}"

    def from_db(self, field, values) -> Decimal | None:
        value = values[0]
        return None if value is None else quantize(to_decimal(value), *self._ps(field))

    def import_value(self, field, text: Any) -> Decimal | None:
        if isinstance(text, str):
            if not text.strip():
                return None
            text = parse_number_text(text)
        return self.parse(field, text)

    def format(self, field, value: Decimal | None, locale: str = "en") -> str:
        return "" if value is None else format_number(value, self._ps(field)[1], locale)

    def convert_from(self, field, source, value: Any) -> Decimal | None:
        """Numbers (and money amounts) convert if no digit is lost; text as in an import."""
        if value is None:
            return None
        if isinstance(value, str):
            return self.import_value(field, value)
        number = getattr(value, "amount", value)
        if isinstance(number, (int, float, Decimal)) and not isinstance(number, bool):
            result = self.parse(field, number)
            if result != to_decimal(number):
                raise FieldValueError(_('%(number)s would be rounded to %(result)s', number=number, result=result))
            return result
        return super().convert_from(field, source, value)
