"""TEXT(value, format): spreadsheet-style number and date formats.

Numbers: a pattern of 0 (digit, always shown), # (digit, shown when needed), ',' (thousands
separator) and '.' (decimal point), with optional literal text around it and '%'
(multiply by 100): "0", "0.00", "#,##0.00", "0%", "0.0%", "$#,##0.00", "0.00 EUR".
Dates: YYYY YY (year), MMMM MMM MM M (month: January, Jan, 01, 1), DDDD DDD DD D (weekday
name, weekday abbreviation, day 01, day 1), hh h (hour), mm m after hh or before ss
(minute), ss s (second); letters are case-insensitive as in Excel; other characters are
copied; "…" or a backslash copies text literally. Names are English.
"""
from __future__ import annotations

import decimal
import re
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from .runtime import check_text, number_text

_WIDE = decimal.Context(prec=300, traps=[decimal.InvalidOperation])

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

_NUMBER_PATTERN = re.compile(r"[#0,]*[#0](?:\.[#0]*)?|\.[#0]+")
_DATE_TOKEN = re.compile(r"yyyy|yy|mmmm|mmm|mm|m|dddd|ddd|dd|d|hh|h|ss|s", re.IGNORECASE)


# ---- numbers -------------------------------------------------------------------------
def is_number_format(fmt: str) -> bool:
    return _NUMBER_PATTERN.search(fmt) is not None


def format_number(value: Decimal, fmt: str) -> str | None:
    m = _NUMBER_PATTERN.search(fmt)
    if m is None:
        return None
    prefix, pattern, suffix = fmt[:m.start()], m.group(0), fmt[m.end():]
    if "%" in prefix or "%" in suffix:
        value = value * 100
    int_part, _, frac_part = pattern.partition(".")
    grouping = "," in int_part
    min_int = int_part.count("0")
    max_dec, min_dec = len(frac_part), frac_part.count("0")
    try:
        rounded = value.quantize(Decimal(1).scaleb(-max_dec), rounding=ROUND_HALF_UP, context=_WIDE)
    except InvalidOperation:
        return None
    negative = rounded < 0
    digits = format(abs(rounded), "f")
    whole, _, frac = digits.partition(".")
    frac = frac.ljust(max_dec, "0")[:max_dec]
    while len(frac) > min_dec and frac.endswith("0"):
        frac = frac[:-1]
    whole = whole.lstrip("0")
    whole = whole.rjust(min_int, "0")
    if grouping and whole:
        whole = f"{int(whole):,}".rjust(len(whole), "0") if len(whole) < 120 else whole
    body = whole + ("." + frac if frac else "")
    if not body.strip("0.,"):
        negative = False
    return check_text(("-" if negative else "") + prefix + body + suffix)


# ---- dates ---------------------------------------------------------------------------
def _date_tokens(fmt: str) -> list[tuple[str, str]]:
    """[(kind, text)]: kind "lit" for literal text, else the lower-case token."""
    out: list[tuple[str, str]] = []
    i, n = 0, len(fmt)
    while i < n:
        ch = fmt[i]
        if ch == "\\" and i + 1 < n:
            out.append(("lit", fmt[i + 1]))
            i += 2
            continue
        if ch == '"':
            j = fmt.find('"', i + 1)
            j = n if j < 0 else j
            out.append(("lit", fmt[i + 1:j]))
            i = j + 1
            continue
        m = _DATE_TOKEN.match(fmt, i)
        if m:
            out.append((m.group(0).lower(), m.group(0)))
            i = m.end()
            continue
        out.append(("lit", ch))
        i += 1
    # Excel's rule: m/mm right after an hour or right before seconds means minutes
    codes = [k for k, _ in out]
    for idx, (kind, text) in enumerate(out):
        if kind in ("m", "mm"):
            before = next((c for c in reversed(codes[:idx]) if c != "lit"), None)
            after = next((c for c in codes[idx + 1:] if c != "lit"), None)
            if before in ("h", "hh") or after in ("s", "ss"):
                out[idx] = ("min" if kind == "m" else "mmin", text)
                codes[idx] = out[idx][0]
    return out


def is_date_format(fmt: str) -> bool:
    return any(kind != "lit" for kind, _ in _date_tokens(fmt))


def format_date(value: date, fmt: str) -> str:
    dt = value if isinstance(value, datetime) else datetime(value.year, value.month, value.day)
    parts = []
    for kind, text in _date_tokens(fmt):
        parts.append({
            "lit": lambda: text,  # noqa: B023  (called at once, in this iteration)
            "yyyy": lambda: f"{dt.year:04d}",
            "yy": lambda: f"{dt.year % 100:02d}",
            "mmmm": lambda: MONTHS[dt.month - 1],
            "mmm": lambda: MONTHS[dt.month - 1][:3],
            "mm": lambda: f"{dt.month:02d}",
            "m": lambda: str(dt.month),
            "dddd": lambda: WEEKDAYS[dt.weekday()],
            "ddd": lambda: WEEKDAYS[dt.weekday()][:3],
            "dd": lambda: f"{dt.day:02d}",
            "d": lambda: str(dt.day),
            "hh": lambda: f"{dt.hour:02d}",
            "h": lambda: str(dt.hour),
            "mmin": lambda: f"{dt.minute:02d}",
            "min": lambda: str(dt.minute),
            "ss": lambda: f"{dt.second:02d}",
            "s": lambda: str(dt.second),
        }[kind]())
    return check_text("".join(parts))


def format_value(value, fmt: str) -> str | None:
    """TEXT(value, format) for any value; None when the format does not suit the value."""
    if isinstance(value, Decimal):
        return format_number(value, fmt)
    if isinstance(value, date):
        return format_date(value, fmt) if is_date_format(fmt) else None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, str):
        return value
    return None


__all__ = ["format_value", "format_number", "format_date", "is_number_format", "is_date_format",
           "number_text"]
