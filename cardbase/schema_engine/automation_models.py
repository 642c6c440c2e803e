"""System tables of the automation features, declared on the shared ``meta_models.Base`` (imported by
``system_tables`` so ``create_all`` and backups see them).

The outbox (``cb_outbox``, meta_models) says what happened; the worker turns each event into
jobs (``cb_job``: one webhook delivery, one e-mail, one scenario run, one reminder), and a job
is retried with exponential backoff until it succeeds or reaches the dead-letter state.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from sqlalchemy import JSON, BigInteger, Boolean, DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .meta_models import Base, BigId, utcnow


class Job(Base):
    """One unit of background work, delivered at least once.

    ``status``: pending (waiting for ``next_at``), running (claimed until ``locked_until``:
    a worker killed mid-job leaves it running, and another claims it once the lease is
    over), done, dead (gave up after ``max_attempts``)."""

    __tablename__ = "cb_job"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=8)
    next_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    locked_until: Mapped[Optional[datetime]] = mapped_column(DateTime, nullable=True)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    done_at: Mapped[Optional[datetime]] = mapped_column(DateTime, nullable=True, index=True)
    __table_args__ = (Index("ix_cb_job_due", "status", "next_at"),)


class AllowedHost(Base):
    """The admin's allow list of webhook targets. When it has rows, a webhook's host must
    match one (``*.example.com`` matches subdomains); ``allow_private`` lets that host
    resolve to a private or loopback address (refused otherwise)."""

    __tablename__ = "cb_allowed_host"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pattern: Mapped[str] = mapped_column(String(255), unique=True)
    allow_private: Mapped[bool] = mapped_column(Boolean, default=False)


class Webhook(Base):
    """A webhook on one object's events: ``kind`` "notify" (after the commit, through the
    worker) or "confirm" (called before the change commits)."""

    __tablename__ = "cb_webhook"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(10), default="notify")
    owner_id: Mapped[int] = mapped_column(Integer, index=True)
    object_id: Mapped[int] = mapped_column(Integer, index=True)
    events: Mapped[list[Any]] = mapped_column(JSON, default=list)
    field: Mapped[Optional[str]] = mapped_column(String(63), nullable=True)
    url: Mapped[str] = mapped_column(String(2000))
    secret: Mapped[str] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    paused_at: Mapped[Optional[datetime]] = mapped_column(DateTime, nullable=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    timeout_ms: Mapped[int] = mapped_column(Integer, default=2000)
    on_timeout: Mapped[str] = mapped_column(String(10), default="refuse")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class WebhookDelivery(Base):
    """One attempt to deliver one event to one webhook: the delivery log."""

    __tablename__ = "cb_webhook_delivery"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    webhook_id: Mapped[int] = mapped_column(Integer, index=True)
    job_id: Mapped[Optional[int]] = mapped_column(BigInteger, nullable=True)
    event_id: Mapped[Optional[int]] = mapped_column(BigInteger, nullable=True)
    topic: Mapped[str] = mapped_column(String(100))
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(10))  # delivered, failed
    response_status: Mapped[Optional[int]] = mapped_column(Integer, nullable=True)
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
    response_excerpt: Mapped[str] = mapped_column(Text, default="")
    error: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)


class Notification(Base):
    """An in-app notification for one user (the bell)."""

    __tablename__ = "cb_notification"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(30))
    text: Mapped[str] = mapped_column(Text)  # in English: the API, e-mail, and notes written before ``message``
    object_id: Mapped[Optional[int]] = mapped_column(Integer, nullable=True)
    record_id: Mapped[Optional[int]] = mapped_column(BigInteger, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    read_at: Mapped[Optional[datetime]] = mapped_column(DateTime, nullable=True)
    # The engine's message (its English msgid) and its parameters: translated when read, so
    # the bell shows the reader's language; NULL for the power user's own text (a scenario's).
    message: Mapped[Optional[str]] = mapped_column(Text, nullable=True)
    params: Mapped[Optional[dict[str, Any]]] = mapped_column(JSON, nullable=True)
    __table_args__ = (Index("ix_cb_notification_user", "user_id", "read_at"),)


class Comment(Base):
    """A comment on a record; ``mentions`` holds the user ids named with @username."""

    __tablename__ = "cb_comment"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    object_id: Mapped[int] = mapped_column(Integer)
    record_id: Mapped[int] = mapped_column(BigInteger)
    author_id: Mapped[Optional[int]] = mapped_column(Integer, nullable=True)
    body: Mapped[str] = mapped_column(Text)
    mentions: Mapped[list[Any]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    __table_args__ = (Index("ix_cb_comment_record", "object_id", "record_id"),)


class Task(Base):
    """A task attached to one record (object, record id) -- or to none -- with an
    assignee, a due time, a reminder and an optional RRULE recurrence."""

    __tablename__ = "cb_task"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    title: Mapped[str] = mapped_column(String(300))
    object_id: Mapped[Optional[int]] = mapped_column(Integer, nullable=True)
    record_id: Mapped[Optional[int]] = mapped_column(BigInteger, nullable=True)
    assignee_id: Mapped[Optional[int]] = mapped_column(Integer, nullable=True, index=True)
    created_by: Mapped[Optional[int]] = mapped_column(Integer, nullable=True)
    due_at: Mapped[Optional[datetime]] = mapped_column(DateTime, nullable=True)
    remind_at: Mapped[Optional[datetime]] = mapped_column(DateTime, nullable=True, index=True)
    reminded_at: Mapped[Optional[datetime]] = mapped_column(DateTime, nullable=True)
    rrule: Mapped[str] = mapped_column(String(500), default="")
    email_reminder: Mapped[bool] = mapped_column(Boolean, default=False)  # the reminder by e-mail too
    done_at: Mapped[Optional[datetime]] = mapped_column(DateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    __table_args__ = (Index("ix_cb_task_record", "object_id", "record_id"),)


class Scenario(Base):
    """Trigger -> conditions (the JSON filter language) -> actions, run as ``actor_id``."""

    __tablename__ = "cb_scenario"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    object_id: Mapped[Optional[int]] = mapped_column(Integer, nullable=True)
    trigger: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    condition: Mapped[Optional[dict[str, Any]]] = mapped_column(JSON, nullable=True)
    actions: Mapped[list[Any]] = mapped_column(JSON, default=list)
    actor_id: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_checked_at: Mapped[Optional[datetime]] = mapped_column(DateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class ScenarioRun(Base):
    """One execution of a scenario, with each step's result."""

    __tablename__ = "cb_scenario_run"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    scenario_id: Mapped[int] = mapped_column(Integer, index=True)
    object_id: Mapped[Optional[int]] = mapped_column(Integer, nullable=True)
    record_id: Mapped[Optional[int]] = mapped_column(BigInteger, nullable=True)
    depth: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(10))  # ok, failed, skipped, stopped
    steps: Mapped[list[Any]] = mapped_column(JSON, default=list)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class EmailMessage(Base):
    """An outgoing e-mail, queued for the worker; logged on its record as an interaction."""

    __tablename__ = "cb_email"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    object_id: Mapped[Optional[int]] = mapped_column(Integer, nullable=True)
    record_id: Mapped[Optional[int]] = mapped_column(BigInteger, nullable=True)
    sender_id: Mapped[Optional[int]] = mapped_column(Integer, nullable=True)
    # [{"filename", "content" (base64)}]: documents generated from Word templates
    attachments: Mapped[list[Any]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(10), default="queued")  # queued, sent, failed
    error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    sent_at: Mapped[Optional[datetime]] = mapped_column(DateTime, nullable=True)
    __table_args__ = (Index("ix_cb_email_record", "object_id", "record_id"),)


class WebForm(Base):
    """A public form for one object at /f/<slug>: the fields it shows, fixed values for
    hidden fields, and what the sender sees afterwards."""

    __tablename__ = "cb_web_form"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(63), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    object_id: Mapped[int] = mapped_column(Integer)
    fields: Mapped[list[Any]] = mapped_column(JSON, default=list)
    fixed: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    confirmation: Mapped[str] = mapped_column(Text, default="")
    redirect_url: Mapped[str] = mapped_column(String(2000), default="")
    actor_id: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class FormHit(Base):
    """One public form post from one address: the rate limit counts these."""

    __tablename__ = "cb_form_hit"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    __table_args__ = (Index("ix_cb_form_hit", "address", "at"),)
