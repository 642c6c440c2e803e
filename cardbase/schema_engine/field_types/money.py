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
from .options import CHOICE, INT, TEXT, OptionSpec, _l
from .decimal import (check_in_limits, check_limit_options, format_number, limit_options, parse_number_text,
                      quantize, shown, to_decimal)
from .registry import register
from ..errors import SchemaError
from ..i18n import _

PRECISION = 18
DEFAULT_SCALE = 2
MAX_SCALE = 6
DEFAULT_CURRENCY = "EUR"
FIXED, PER_RECORD = "fixed", "per_record"

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


_SAME_CURRENCY_OPS = ("eq", "ne", "lt", "le", "gt", "ge", "between", "in", "not_in")


def _currency_of(op: str, value: Any) -> str | None:
    """The currency a comparison's operand is in (None: no operand, e.g. eq empty)."""
    if op == "between":
        return next((v.currency for v in value if v is not None), None)
    return value.currency if isinstance(value, Money) else None


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


def check_currency_list(raw: Any) -> str:
    """'eur, gbp usd' or ["EUR", "GBP"] -> 'EUR, GBP, USD' (the allowed currencies of a
    per-record money field, kept as one text); a code that is not ISO 4217 -> an error."""
    if isinstance(raw, (list, tuple)):
        parts = [str(p) for p in raw]
    elif isinstance(raw, str):
        parts = re.split(r"[\s,;]+", raw.strip())
    else:
        raise ValueError(_("must be currency codes such as 'EUR, GBP, USD'"))
    codes: list[str] = []
    for part in filter(None, parts):
        try:
            code = check_currency(part)
        except FieldValueError as exc:
            raise ValueError(str(exc)) from None
        if code not in codes:
            codes.append(code)
    return ", ".join(codes)


def allowed_currencies(field) -> tuple[str, ...] | None:
    """The currencies a record of ``field`` may use: the one fixed currency, or the listed
    ones of a per-record field (None: any ISO 4217 code)."""
    options = field.options
    if mode_of(options) == FIXED:
        return (options.get("currency", DEFAULT_CURRENCY),)
    listed = tuple(c for c in (options.get("currencies") or "").replace(",", " ").split() if c)
    return listed or None


def per_record(field) -> bool:
    """True when each record of a money field chooses its currency."""
    return field.type == "money" and mode_of(field.options) == PER_RECORD


def mode_of(options: Mapping[str, Any]) -> str:
    """A money field's currency mode. Every field saved since the option exists has it (a
    new field: fixed); a field saved before has none and keeps what it did then -- each
    record its own currency -- so existing amounts in several currencies stay valid."""
    return options.get("currency_mode") or PER_RECORD


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
    label = _l("Money")
    operators = ORDERED
    indexed = True  # lists sort and filter by amounts (deals by value): an index serves both
    value_type = "number"

    options = (
        OptionSpec("currency", TEXT, default=DEFAULT_CURRENCY, check=check_currency, max_length=3,
                   label=_l("Currency (ISO code)"), help=_l("e.g. EUR, USD, CHF")),
        OptionSpec("currency_mode", CHOICE, default=FIXED, choices=(FIXED, PER_RECORD),
                   choice_labels={FIXED: _l("One fixed currency"), PER_RECORD: _l("A currency per record")},
                   label=_l("Currency of the amounts"),
                   doc="fixed: every amount is in the field's currency; per_record: each record chooses one"),
        OptionSpec("currencies", TEXT, check=check_currency_list, max_length=400,
                   label=_l("Allowed currencies (per record)"), help=_l("e.g. EUR, GBP, USD; empty: any")),
        OptionSpec("scale", INT, default=DEFAULT_SCALE, minimum=0, maximum=MAX_SCALE,
                   label=_l("Decimal places"), help=_l("default 2")),
    ) + limit_options()

    def check_value(self, field, value: Money | None) -> None:
        """The limits bound the amount (in whatever currency the record has)."""
        check_in_limits(field, None if value is None else value.amount, self._scale(field))

    def finish_options(self, options: dict[str, Any], ctx) -> dict[str, Any]:
        """A fixed field lists no other currencies; a per-record field's default currency
        is one of those it allows."""
        check_limit_options(options)
        if options.get("currency_mode", FIXED) == FIXED:
            options.pop("currencies", None)
            return options
        listed = (options.get("currencies") or "").replace(",", " ").split()
        if listed and options.get("currency", DEFAULT_CURRENCY) not in listed:
            raise SchemaError({"options.currencies": _(
                "must include the default currency %(currency)s", currency=options.get("currency", DEFAULT_CURRENCY))})
        if not listed:
            options.pop("currencies", None)
        return options

    def editable_options(self, field) -> dict[str, Any]:
        """A field saved before currency modes existed keeps a currency per record."""
        return {**field.options, "currency_mode": mode_of(field.options)}

    def export_options(self, options, ctx) -> dict[str, Any]:
        return {**super().export_options(options, ctx), "currency_mode": mode_of(options)}

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
        code = check_currency(currency)
        allowed = allowed_currencies(field)
        if allowed is not None and code not in allowed:
            if len(allowed) == 1:
                raise FieldValueError(_('is in %(currency)s only; %(code)s is not allowed', currency=allowed[0], code=code))
            raise FieldValueError(_('%(code)s is not allowed; use one of %(allowed)s', code=code, allowed=", ".join(allowed)))
        return Money(quantize(to_decimal(amount), PRECISION, self._scale(field)), code)

    # ---- filters: an amount is compared only with amounts in its own currency -------------
    def filter_clause(self, field, cols, op: str, value: Any):
        """On a field with a currency per record, "amount < 100000" means 100,000 in the
        filter value's currency (the field's default for a plain number): a 99,600 GBP deal
        is not below 100,000 EUR, and without exchange rates it is not compared at all."""
        clause = super().filter_clause(field, cols, op, value)
        if not per_record(field) or len(cols) < 2 or op not in _SAME_CURRENCY_OPS:
            return clause
        code = sa.func.coalesce(cols[1], self._currency(field))
        if op in ("in", "not_in"):
            pairs = [sa.and_(cols[0] == v.amount, code == v.currency) for v in value if v is not None]
            inside = sa.or_(*pairs) if pairs else sa.false()
            return inside if op == "in" else sa.or_(sa.not_(inside), cols[0].is_(None))
        currency = _currency_of(op, value)
        if currency is None:
            return clause
        if op == "ne":
            return sa.or_(clause, code != currency)
        return sa.and_(clause, code == currency)

    def filter_match(self, field, op: str, value: Any, current: Any):
        truth = super().filter_match(field, op, value, current)
        if not per_record(field) or op not in _SAME_CURRENCY_OPS or current is None:
            return truth
        if op in ("in", "not_in"):
            inside = any(v is not None and v.amount == current.amount and v.currency == current.currency for v in value)
            return inside if op == "in" else not inside
        currency = _currency_of(op, value)
        if currency is None or current.currency == currency:
            return truth
        return op == "ne"  # another currency: never equal, never less or greater

    def filter_value(self, field, op: str, value: Any) -> Any:
        parsed = super().filter_value(field, op, value)
        if op == "between" and per_record(field) and None not in parsed and parsed[0].currency != parsed[1].currency:
            raise FieldValueError(_("both ends of 'between' must be in the same currency"))
        return parsed

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
