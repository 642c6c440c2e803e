"""An amount of money in a currency, in two columns: the amount (filtered, sorted and
summed like a decimal) and its ISO 4217 currency code, so one field can hold deals in
several currencies without losing which is which."""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Mapping

import marshmallow as ma
import sqlalchemy as sa

from .base import ORDERED, ColumnSpec, FieldType, FieldValueError
from .options import INT, TEXT, OptionSpec, _l
from .decimal import format_number, parse_number_text, quantize, shown, to_decimal
from .registry import register
from ..i18n import _

PRECISION = 18
DEFAULT_SCALE = 2
MAX_SCALE = 6
DEFAULT_CURRENCY = "EUR"

# Active ISO 4217 codes (plus a few recently withdrawn ones old data may still carry).
CURRENCIES = frozenset("""
AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN
BWP BYN BZD CAD CDF CHF CLP CNY COP CRC CUC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR
FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HRK HTG HUF IDR ILS INR IQD IRR ISK JMD
JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK
MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN
PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL
THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XCG XOF
XPF YER ZAR ZMW ZWG ZWL
""".split())
_SYMBOLS = {"€": "EUR", "$": "USD", "£": "GBP", "¥": "JPY"}
_CELL = re.compile(
    r"([+-]?)\s*(?P<pre>[A-Za-z]{3}|[€$£¥])?\s*(?P<num>[+-]?[\d.,' \u00a0\u202f]*\d[\d.,]*)\s*"
    r"(?P<post>[A-Za-z]{3}|[€$£¥])?")
_EXAMPLE = '12.50 or {"amount": "12.50", "currency": "EUR"}'


@dataclass(frozen=True)
class Money:
    """The Python value of a money field."""

    amount: Decimal
    currency: str

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"


def check_currency(code: Any) -> str:
    """'eur' -> 'EUR'; anything that is not an ISO 4217 code -> FieldValueError."""
    text = code.strip().upper() if isinstance(code, str) else ""
    if text not in CURRENCIES:
        raise FieldValueError(_('%(value)s is not an ISO 4217 currency code (e.g. EUR, USD, GBP)', value=shown(code)))
    return text


class _MoneyField(ma.fields.Field):
    """Marshmallow face of the money type, for API schemas."""

    def __init__(self, ftype: "MoneyType", field, **kwargs: Any):
        super().__init__(**kwargs)
        self.ftype, self.info = ftype, field

    def _serialize(self, value: Any, attr: Any, obj: Any, **kwargs: Any) -> Any:
        return self.ftype.to_json(self.info, value)

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        try:
            return self.ftype.parse(self.info, value)
        except FieldValueError as exc:
            raise ma.ValidationError(str(exc)) from None


@register
class MoneyType(FieldType):
    """Amount plus currency; filters and sorting use the amount."""

    name = "money"
    label = "Money"
    operators = ORDERED
    indexed = True  # lists sort and filter by amounts (deals by value): an index serves both
    value_type = "number"

    options = (
        OptionSpec("currency", TEXT, default=DEFAULT_CURRENCY, check=check_currency, max_length=3,
                   label=_l("Currency (ISO code)"), help=_l("e.g. EUR, USD, CHF")),
        OptionSpec("scale", INT, default=DEFAULT_SCALE, minimum=0, maximum=MAX_SCALE,
                   label=_l("Decimal places"), help=_l("default 2")),
    )

    @staticmethod
    def _scale(field) -> int:
        return field.options.get("scale", DEFAULT_SCALE)

    @staticmethod
    def _currency(field) -> str:
        return field.options.get("currency", DEFAULT_CURRENCY)

    def column_specs(self, field) -> list[ColumnSpec]:
        return [ColumnSpec("", sa.Numeric(PRECISION, self._scale(field), asdecimal=True),
                           indexed=self.indexed or field.unique),
                ColumnSpec("currency", sa.String(3))]

    def marshmallow_field(self, field) -> ma.fields.Field:
        return _MoneyField(self, field, allow_none=True)

    def parse(self, field, raw: Any) -> Money | None:
        if self.is_empty(raw):
            return None
        amount: Any
        if isinstance(raw, Money):
            amount, currency = raw.amount, raw.currency
        elif isinstance(raw, Mapping):
            unknown = set(raw) - {"amount", "currency"}
            if unknown:
                raise FieldValueError(_('unknown key(s) %(keys)s; expected %(example)s',
                                        keys=', '.join(sorted(map(str, unknown))), example=_EXAMPLE))
            amount, currency = raw.get("amount"), raw.get("currency") or self._currency(field)
            if self.is_empty(amount):
                return None
        elif isinstance(raw, (int, float, Decimal, str)) and not isinstance(raw, bool):
            amount, currency = raw, self._currency(field)
        else:
            raise FieldValueError(_('must be an amount like %(example)s, not %(value)s', example=_EXAMPLE, value=shown(raw)))
        return Money(quantize(to_decimal(amount), PRECISION, self._scale(field)), check_currency(currency))

    def to_json(self, field, value: Money | None) -> dict[str, str] | None:
        if value is None:
            return None
        return {"amount": f"{value.amount:.{self._scale(field)}f}", "currency": value.currency}

    def to_db(self, field, value: Money | None) -> tuple:
        return (None, None) if value is None else (value.amount, value.currency)

    def from_db(self, field, values) -> Money | None:
        amount, currency = values[0], values[1] if len(values) > 1 else None
        if amount is None:
            return None
        return Money(quantize(to_decimal(amount), PRECISION, self._scale(field)), currency or self._currency(field))

    def formula_value(self, field, value: Money | None) -> Decimal | None:
        return None if value is None else value.amount

    def import_value(self, field, text: Any) -> Money | None:
        """"1.234,50 €", "USD 12.50", "-12,5" (default currency)."""
        if not isinstance(text, str):
            return self.parse(field, text)
        text = text.strip()
        if not text:
            return None
        m = _CELL.fullmatch(text)
        if not m or (m["pre"] and m["post"]):
            raise FieldValueError(_('%(value)s is not an amount (write e.g. 1234.50 EUR)', value=shown(text)))
        code = m["pre"] or m["post"]
        currency = check_currency(_SYMBOLS.get(code, code)) if code else self._currency(field)
        amount = parse_number_text(m.group(1) + m["num"])
        return self.parse(field, Money(amount, currency))

    def format(self, field, value: Money | None, locale: str = "en") -> str:
        if value is None:
            return ""
        return f"{format_number(value.amount, self._scale(field), locale)} {value.currency}"

    def convert_from(self, field, source, value: Any) -> Money | None:
        """Numbers become amounts in the default currency, if no digit is lost."""
        if value is None:
            return None
        if isinstance(value, str):
            return self.import_value(field, value)
        number = getattr(value, "amount", value)
        if isinstance(number, (int, float, Decimal)) and not isinstance(number, bool):
            result = self.parse(field, value if isinstance(value, Money) else number)
            assert result is not None  # a number is never empty
            if result.amount != to_decimal(number):
                raise FieldValueError(_('%(number)s would be rounded to %(amount)s', number=number, amount=result.amount))
            return result
        return super().convert_from(field, source, value)
