"""How values look in a document, in the document's language: dates, numbers, money with
its currency and amounts in words (num2words: German, English, Polish).

``display`` is what ``{{ value }}`` prints (the environment's finalize); the filters give
the power user a choice: ``{{ order.date|date("long") }}``, ``{{ line.price|number(2) }}``,
``{{ order.total|money }}``, ``{{ order.total|in_words }}``,
``{{ order.order_line|total("cost") }}``. Values stay Python values until printed, so
comparisons and sums in a template work on numbers, not on text."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Callable, Iterable, Mapping

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.numbers import format_currency, format_decimal
from num2words import num2words

from cardbase.schema_engine.field_types.money import Money, check_currency
from cardbase.schema_engine.values import LinkRef

from .values import Record, is_empty

LANGUAGES = ("en", "de", "pl")  # languages a document can be written in (num2words speaks all three)
LANGUAGE_NAMES = {"en": "English", "de": "Deutsch", "pl": "Polski"}
DATE_FORMATS = ("short", "medium", "long", "full")
YES_NO = {"en": ("yes", "no"), "de": ("ja", "nein"), "pl": ("tak", "nie")}
MAX_DIGITS = 40  # a number longer than this is not written out (in words or digits)


class FormatError(ValueError):
    """A filter got a value it cannot format; the message names the problem."""


def _pattern(places: int) -> str:
    return "#,##0" + ("." + "0" * places if places > 0 else "")


def _places(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def _check_size(value: Decimal) -> Decimal:
    if not value.is_finite() or value.adjusted() > MAX_DIGITS or _places(value) > MAX_DIGITS:
        raise FormatError(f"{value!s:.50} is too large or too precise to print")
    return value


def _number(value: Any) -> Decimal:
    if isinstance(value, Money):
        value = value.amount
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        raise FormatError(f"expected a number, got {type(value).__name__}")
    try:
        return _check_size(Decimal(str(value)) if isinstance(value, float) else Decimal(value))
    except InvalidOperation:
        raise FormatError(f"{value!r} is not a number") from None


class Formatter:
    """The formatting of one document language."""

    def __init__(self, language: str):
        if language not in LANGUAGES:
            raise ValueError(f"unknown document language {language!r}; one of {', '.join(LANGUAGES)}")
        self.language = language
        self.locale = Locale.parse(language)  # parsed once: babel is several times faster given a Locale

    # ---- bare values ----------------------------------------------------------------------------
    def display(self, value: Any) -> Any:
        """What ``{{ value }}`` prints."""
        if is_empty(value):
            return ""
        if isinstance(value, Record):
            return str(value)
        if isinstance(value, bool):
            return YES_NO[self.language][0 if value else 1]
        if isinstance(value, Money):
            return self.money(value)
        if isinstance(value, (Decimal, int, float)):
            number = _number(value)
            return format_decimal(number, format=_pattern(_places(number)), locale=self.locale)
        if isinstance(value, (date, datetime)):
            return self.date(value)
        if isinstance(value, LinkRef):
            return value.display
        if isinstance(value, (list, tuple)):
            return ", ".join(str(self.display(v)) for v in value)
        return value

    # ---- filters --------------------------------------------------------------------------------
    def date(self, value: Any, format: str = "medium") -> str:
        if is_empty(value):
            return ""
        if not isinstance(value, (date, datetime)):
            raise FormatError(f"date: expected a date, got {type(value).__name__}")
        if not isinstance(format, str) or not 0 < len(format) <= 60:
            raise FormatError("date: the format is a name (short, medium, long, full) or a pattern like dd.MM.yyyy")
        if isinstance(value, datetime):
            return format_datetime(value, format, locale=self.locale)
        return format_date(value, format, locale=self.locale)

    def number(self, value: Any, places: int | None = None) -> str:
        if is_empty(value):
            return ""
        number = _number(value)
        if places is not None and (isinstance(places, bool) or not isinstance(places, int) or not 0 <= places <= 10):
            raise FormatError("number: places must be a whole number from 0 to 10")
        if places is not None:
            number = number.quantize(Decimal(1).scaleb(-places))
        return format_decimal(number, format=_pattern(_places(number) if places is None else places),
                              locale=self.locale)

    def money(self, value: Any, currency: str | None = None) -> str:
        """An amount with its currency (a money field's own, or the one named)."""
        if is_empty(value):
            return ""
        amount, code = self._amount(value, currency, "money")
        return format_currency(amount, code, locale=self.locale)

    def in_words(self, value: Any, currency: str | None = None) -> str:
        """The amount in words in the document's language; money with its currency."""
        if is_empty(value):
            return ""
        if isinstance(value, Money) or currency is not None:
            amount, code = self._amount(value, currency, "in_words")
            try:
                return num2words(amount, lang=self.language, to="currency", currency=code)
            except NotImplementedError:  # num2words has no words for this currency here
                whole = int(amount)
                cents = abs(amount - whole) * 100
                return f"{num2words(whole, lang=self.language)} {code} {int(cents):02d}/100"
        number = _number(value)
        return num2words(number if _places(number) else int(number), lang=self.language)

    def _amount(self, value: Any, currency: str | None, name: str) -> tuple[Decimal, str]:
        if isinstance(value, Money):
            return _number(value.amount), value.currency if currency is None else self._currency(currency, name)
        if currency is None:
            raise FormatError(f"{name}: this value has no currency; name one, e.g. {name}('EUR')")
        return _number(value), self._currency(currency, name)

    @staticmethod
    def _currency(code: Any, name: str) -> str:
        try:
            return check_currency(code)
        except ValueError as exc:
            raise FormatError(f"{name}: {exc}") from None

    def total(self, items: Iterable[Any], attribute: str) -> Any:
        """The sum of a field over a child list (money stays in its currency; two
        currencies are never added up)."""
        values = [item[attribute] if isinstance(item, (Record, Mapping)) else item for item in items]
        values = [v for v in values if not is_empty(v)]
        money = [v for v in values if isinstance(v, Money)]
        if money:
            currencies = sorted({m.currency for m in money})
            if len(currencies) > 1 or len(money) != len(values):
                raise FormatError(f"total: {attribute} mixes currencies ({', '.join(currencies)}): "
                                  f"amounts in different currencies are not added up")
            return Money(sum((m.amount for m in money), Decimal(0)), currencies[0])
        return sum((_number(v) for v in values), Decimal(0))

    def filters(self) -> dict[str, Callable[..., Any]]:
        return {"date": self.date, "number": self.number, "money": self.money, "in_words": self.in_words,
                "total": self.total}
