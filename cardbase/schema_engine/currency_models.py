"""System tables of currencies (issue 14, point 1), declared on the shared
``meta_models.Base`` (imported by ``system_tables``): the one base currency amounts are
converted to, and exchange rates with the dates they are valid for. A rate says how much
one unit of ``currency`` is worth in the base currency (1 GBP = 1.17 EUR)."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Optional

from sqlalchemy import Date, DateTime, Integer, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from .meta_models import Base, utcnow


class CurrencySettings(Base):
    """One row (id 1): the base currency; no row: no conversion, figures stay per currency."""

    __tablename__ = "cb_currency_settings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    base_currency: Mapped[str] = mapped_column(String(3))
    modified_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class ExchangeRate(Base):
    """1 ``currency`` = ``rate`` base currency from ``valid_from`` up to and including
    ``valid_to`` (None: open-ended). Periods of one currency never overlap."""

    __tablename__ = "cb_exchange_rate"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), index=True)
    rate: Mapped[Decimal] = mapped_column(Numeric(24, 10))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[Optional[date]] = mapped_column(Date, nullable=True)
    modified_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
