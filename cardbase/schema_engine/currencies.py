"""The base currency and exchange rates (issue 14, point 1): kept by administrators in
the browser and through the API as one table, replaced as a whole (all or nothing, every
problem at once, named by row). Figures of amounts in several currencies are converted
to the base currency only with a rate valid on the day asked for, and say which rate they
used; without rates they stay per currency."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Mapping, Sequence

import sqlalchemy as sa
from sqlalchemy import Connection

from .accounts.policy import ADMIN
from .actor import Actor
from .currency_models import CurrencySettings, ExchangeRate
from .errors import ValidationError
from .field_types import FieldValueError
from .field_types.decimal import to_decimal
from .field_types.money import check_currency
from .i18n import _

MAX_RATES = 1000
MAX_RATE = Decimal("1e12")


def read(conn: Connection) -> dict[str, Any]:
    """{"base_currency": code or None, "rates": [{id, currency, rate, valid_from, valid_to}]}."""
    base = conn.execute(sa.select(CurrencySettings.base_currency).where(CurrencySettings.id == 1)).scalar()
    t = ExchangeRate.__table__
    rows = conn.execute(sa.select(t.c.id, t.c.currency, t.c.rate, t.c.valid_from, t.c.valid_to)
                        .order_by(t.c.currency, t.c.valid_from)).all()
    return {"base_currency": base, "rates": [
        {"id": r.id, "currency": r.currency, "rate": Decimal(r.rate).normalize() if r.rate is not None else None,
         "valid_from": r.valid_from, "valid_to": r.valid_to} for r in rows]}


def to_json(settings: Mapping[str, Any]) -> dict[str, Any]:
    return {"base_currency": settings["base_currency"], "rates": [
        {"currency": r["currency"], "rate": format(r["rate"], "f"), "valid_from": r["valid_from"].isoformat(),
         "valid_to": r["valid_to"].isoformat() if r["valid_to"] else None} for r in settings["rates"]]}


def replace(db, actor: Actor, base_currency: Any, rates: Any) -> dict[str, Any]:
    """Set the base currency and replace every exchange rate; ValidationError naming each
    bad row (``rates[2].rate``) and nothing written when anything is wrong."""
    ADMIN.require_admin(actor, "change the base currency and exchange rates")
    errors: dict[str, list[str]] = {}
    base = _base(base_currency, errors)
    cleaned = _rates(rates, base, errors)
    if errors:
        raise ValidationError(errors, message=_("the currencies were not saved: %(problems)s",
                                                problems="; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items())))
    with db.write() as conn:
        conn.execute(sa.delete(ExchangeRate))
        conn.execute(sa.delete(CurrencySettings))
        if base is not None:
            conn.execute(sa.insert(CurrencySettings).values(id=1, base_currency=base))
        if cleaned:
            conn.execute(sa.insert(ExchangeRate), cleaned)
        return read(conn)


def _base(raw: Any, errors: dict[str, list[str]]) -> str | None:
    if raw is None or raw == "":
        return None
    try:
        return check_currency(raw)
    except FieldValueError as exc:
        errors.setdefault("base_currency", []).append(str(exc))
        return None


def _date(raw: Any, key: str, errors: dict[str, list[str]], required: bool) -> dt.date | None:
    if raw is None or raw == "":
        if required:
            errors.setdefault(key, []).append(_("is required"))
        return None
    if isinstance(raw, dt.date):
        return raw
    try:
        return dt.date.fromisoformat(str(raw).strip())
    except ValueError:
        errors.setdefault(key, []).append(_("%(value)s is not a date (write it like 2026-12-31)", value=repr(raw)))
        return None


def _rates(raw: Any, base: str | None, errors: dict[str, list[str]]) -> list[dict[str, Any]]:
    if raw is None:
        raw = []
    if not isinstance(raw, Sequence) or isinstance(raw, (str, bytes)) or len(raw) > MAX_RATES:
        errors.setdefault("rates", []).append(_("must be a list of at most %(max)s rates", max=MAX_RATES))
        return []
    if raw and base is None and "base_currency" not in errors:
        errors.setdefault("base_currency", []).append(_("is required when there are exchange rates"))
    out: list[dict[str, Any]] = []
    for i, item in enumerate(raw):
        key = f"rates[{i}]"
        if not isinstance(item, Mapping):
            errors.setdefault(key, []).append(_('must be an object like {"currency": "GBP", "rate": "1.17", '
                                                '"valid_from": "2026-01-01"}'))
            continue
        before = len(errors)
        try:
            currency = check_currency(item.get("currency"))
            if currency == base:
                errors.setdefault(f"{key}.currency", []).append(_("is the base currency: its rate is always 1"))
        except FieldValueError as exc:
            errors.setdefault(f"{key}.currency", []).append(str(exc))
            currency = ""
        rate: Decimal | None = None
        try:
            rate = to_decimal(item.get("rate"))
            if rate <= 0:
                errors.setdefault(f"{key}.rate", []).append(_("must be greater than 0"))
            elif rate > MAX_RATE:
                errors.setdefault(f"{key}.rate", []).append(_("is too large"))
        except FieldValueError as exc:
            errors.setdefault(f"{key}.rate", []).append(str(exc))
        start = _date(item.get("valid_from"), f"{key}.valid_from", errors, required=True)
        end = _date(item.get("valid_to"), f"{key}.valid_to", errors, required=False)
        if start is not None and end is not None and end < start:
            errors.setdefault(f"{key}.valid_to", []).append(_("must not be before valid_from"))
        if len(errors) == before:
            out.append({"currency": currency, "rate": rate, "valid_from": start, "valid_to": end, "_row": i})
    by_currency: dict[str, list[dict[str, Any]]] = {}
    for row in out:
        by_currency.setdefault(row["currency"], []).append(row)
    for rows in by_currency.values():
        rows.sort(key=lambda r: r["valid_from"])
        for prev, row in zip(rows, rows[1:]):
            if prev["valid_to"] is None or prev["valid_to"] >= row["valid_from"]:
                errors.setdefault(f"rates[{row['_row']}].valid_from", []).append(_(
                    "overlaps the rate of %(currency)s in row %(row)s (valid from %(start)s%(end)s)",
                    currency=row["currency"], row=prev["_row"] + 1, start=prev["valid_from"].isoformat(),
                    end=f" to {prev['valid_to'].isoformat()}" if prev["valid_to"] else ""))
    return [{k: v for k, v in r.items() if k != "_row"} for r in out]


def rates_on(conn: Connection, day: dt.date) -> tuple[str | None, dict[str, dict[str, Any]]]:
    """(base currency, {currency: {"rate", "valid_from"}}) of the rates valid on ``day``."""
    t = ExchangeRate.__table__
    base = conn.execute(sa.select(CurrencySettings.base_currency).where(CurrencySettings.id == 1)).scalar()
    if base is None:
        return None, {}
    rows = conn.execute(sa.select(t.c.currency, t.c.rate, t.c.valid_from).where(
        t.c.valid_from <= day, sa.or_(t.c.valid_to.is_(None), t.c.valid_to >= day))).all()
    return base, {r.currency: {"rate": Decimal(r.rate).normalize(), "valid_from": r.valid_from} for r in rows}


def convert(conn: Connection, amounts: Mapping[str, Decimal], day: dt.date | None = None,
            scale: int = 2) -> dict[str, Any] | None:
    """Amounts per currency converted and added in the base currency at the rates valid
    on ``day`` (today): {"amount", "currency", "rates": {code: rate}}; None when there is
    no base currency or a currency has no rate that day (the figures stay per currency)."""
    base, rates = rates_on(conn, day or dt.date.today())
    if base is None:
        return None
    total = Decimal(0)
    used: dict[str, str] = {}
    for code, amount in amounts.items():
        if code == base:
            total += amount
            continue
        if code not in rates:
            return None
        total += amount * rates[code]["rate"]
        used[code] = format(rates[code]["rate"], "f")
    return {"amount": total.quantize(Decimal(1).scaleb(-scale)), "currency": base, "rates": used}
