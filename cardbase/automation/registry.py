"""What the worker runs: job handlers by kind, outbox dispatchers and periodic tickers.
A new kind of background work is one handler class added here."""
from __future__ import annotations

from typing import TYPE_CHECKING

from . import email_out, scenario_steps, scenarios, tasks, webhooks

if TYPE_CHECKING:  # pragma: no cover
    from .worker import Dispatcher, Handler, Ticker


def handlers() -> list["Handler"]:
    return [webhooks.DeliverWebhook(), scenarios.RunScenario(), scenario_steps.CallUrl(), email_out.SendEmail()]


def dispatchers() -> list["Dispatcher"]:
    return [webhooks.dispatch, scenarios.dispatch]


def tickers() -> list["Ticker"]:
    from ..transfer import housekeeping  # import jobs: mark dead ones interrupted, prune their files
    return [tasks.reminder_ticker, scenarios.date_ticker, scenarios.schedule_ticker,
            housekeeping.interrupted_ticker, housekeeping.prune_ticker]
