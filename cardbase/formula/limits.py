"""Size limits of the formula language. Every one is enforced when a formula is saved
(parse, type check, constant folding) and again while it runs, so no formula can make the
process spend unbounded time or memory."""
from __future__ import annotations

from decimal import Decimal

MAX_FORMULA_LENGTH = 4000  # characters of formula text as the power user writes it
MAX_CANONICAL_LENGTH = 4 * MAX_FORMULA_LENGTH  # stored form: ids may be longer than names
MAX_DEPTH = 50  # nesting depth of the syntax tree (parentheses, calls, operator chains)
MAX_ARGS = 255  # arguments of one function call (Excel's limit)
MAX_EXPONENT = 1000  # largest |exponent| of ^
MAX_NUMBER = Decimal("1e100")  # largest |number| any literal or result may have
MAX_TEXT_LENGTH = 100_000  # characters of any text value a formula produces
MAX_NAME_LENGTH = 200  # characters of one field name in brackets
DECIMAL_PRECISION = 34  # significant digits of numbers (IEEE decimal128)
