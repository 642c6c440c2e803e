"""Automation and collaboration: the background worker that delivers the outbox, webhooks
(notifying and confirming), scenarios, tasks and reminders, notifications, comments, web
forms and outgoing e-mail."""

from . import solution_part  # noqa: E402,F401  (scenarios travel in solutions)
