"""What the worker runs: job handlers by kind, outbox dispatchers and periodic tickers.
A new kind of background work is one handler class added here."""
from __future__ import annotations

from typing import TYPE_CHECKING

from . import tasks, webhooks

if TYPE_CHECKING:  # pragma: no cover
    from .worker import Dispatcher, Handler, Ticker


def handlers() -> list["Handler"]:
    return [webhooks.DeliverWebhook()]


def dispatchers() -> list["Dispatcher"]:
    return [webhooks.dispatch]


def tickers() -> list["Ticker"]:
    return [tasks.reminder_ticker]
