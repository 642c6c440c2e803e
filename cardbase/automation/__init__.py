"""Automation and collaboration: the background worker that delivers the outbox, webhooks
(notifying and confirming), scenarios, tasks and reminders, notifications, comments, web
forms and outgoing e-mail."""
