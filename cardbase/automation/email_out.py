"""Outgoing e-mail: queued in the sender's transaction, sent by the worker over SMTP.

SMTP settings come from the environment: ``CARDBASE_SMTP_HOST`` (no host: messages wait
in the queue), ``CARDBASE_SMTP_PORT`` (25), ``CARDBASE_SMTP_USER`` /
``CARDBASE_SMTP_PASSWORD``, ``CARDBASE_SMTP_FROM`` (cardbase@localhost) and
``CARDBASE_SMTP_SECURITY`` (none, starttls or ssl). A message sent from a record is
stored with it (``cb_email``) and shows in the record's activity feed as an interaction.
"""
from __future__ import annotations

import base64
import os
import re
import smtplib
from email.message import EmailMessage as MimeMessage
from typing import TYPE_CHECKING, Any, Mapping

import sqlalchemy as sa
from sqlalchemy import Connection

from cardbase.schema_engine.automation_models import EmailMessage
from cardbase.schema_engine.errors import ValidationError
from cardbase.schema_engine.snapshot import ObjectInfo

from . import clock, jobs, templates

if TYPE_CHECKING:  # pragma: no cover
    from .worker import Services

MAILS = EmailMessage.__table__
JOB_KIND = "email"
ADDRESS = re.compile(r"^[^@\s<>,;\"']+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}$")
SMTP_TIMEOUT = 20.0
MAX_ATTACHMENTS = 10 * 1024 * 1024
DOCX_SUBTYPE = "vnd.openxmlformats-officedocument.wordprocessingml.document"


def smtp_settings(env: Mapping[str, str] | None = None) -> dict[str, Any] | None:
    env = os.environ if env is None else env
    host = env.get("CARDBASE_SMTP_HOST", "").strip()
    if not host:
        return None
    security = env.get("CARDBASE_SMTP_SECURITY", "none").strip().lower()
    if security not in ("none", "starttls", "ssl"):
        raise ValidationError({"CARDBASE_SMTP_SECURITY": "must be none, starttls or ssl"})
    try:
        port = int(env.get("CARDBASE_SMTP_PORT", "465" if security == "ssl" else "25"))
    except ValueError:
        raise ValidationError({"CARDBASE_SMTP_PORT": "must be a port number"}) from None
    return {"host": host, "port": port, "user": env.get("CARDBASE_SMTP_USER", ""),
            "password": env.get("CARDBASE_SMTP_PASSWORD", ""), "security": security,
            "sender": env.get("CARDBASE_SMTP_FROM", "cardbase@localhost")}


def check_address(value: object, field: str = "to") -> str:
    if not isinstance(value, str) or len(value) > 254 or not ADDRESS.match(value.strip()):
        raise ValidationError({field: f"{value!r} is not an e-mail address"})
    return value.strip()


def queue(conn: Connection, to: str, subject: str, body: str, *, object_id: int | None = None,
          record_id: int | None = None, sender_id: int | None = None,
          attachments: list[tuple[str, bytes]] | None = None) -> int:
    """Store the message and queue its sending (both in the caller's transaction).
    ``attachments``: (file name, content), at most ``MAX_ATTACHMENTS`` bytes together."""
    to = check_address(to)
    if "\n" in subject or "\r" in subject:
        raise ValidationError({"subject": "must be one line"})
    files = attachments or []
    if sum(len(c) for _n, c in files) > MAX_ATTACHMENTS:
        raise ValidationError({"attachments": f"must be at most {MAX_ATTACHMENTS // (1024 * 1024)} MB together"})
    stored = [{"filename": name, "content": base64.b64encode(content).decode()} for name, content in files]
    mid: int = conn.execute(sa.insert(MAILS).returning(MAILS.c.id), {
        "to_address": to, "subject": subject[:300], "body": body, "object_id": object_id, "record_id": record_id,
        "sender_id": sender_id, "status": "queued", "error": "", "created_at": clock.now(),
        "attachments": stored}).scalar_one()
    jobs.enqueue(conn, JOB_KIND, {"email_id": mid})
    return mid


def from_template(conn: Connection, obj: ObjectInfo | None, record: Mapping[str, Any] | None, to: str, subject: str,
                  body: str, *, sender_id: int | None = None, attachments: list[tuple[str, bytes]] | None = None) -> int:
    """Render subject and body with the record's fields and queue the message."""
    templates.check(subject, obj, "subject")
    templates.check(body, obj, "body")
    return queue(conn, templates.render(to, obj, record).strip(), templates.render(subject, obj, record),
                 templates.render(body, obj, record), object_id=obj.id if obj is not None else None,
                 record_id=(record or {}).get("id"), sender_id=sender_id, attachments=attachments)


class SendEmail:
    """The job handler: one message over SMTP."""

    kind = JOB_KIND

    def run(self, services: "Services", job: jobs.ClaimedJob) -> None:
        settings = services.smtp if services.smtp is not None else smtp_settings()
        if settings is None:
            raise jobs.JobFailed("no SMTP server configured (CARDBASE_SMTP_HOST)")
        with services.store.db.read() as conn:
            row = conn.execute(sa.select(MAILS).where(MAILS.c.id == job.payload["email_id"])).mappings().first()
        if row is None:
            raise jobs.JobFailed("the message was deleted", retry=False)
        if row["status"] == "sent":
            return  # sent by an earlier try whose result was not recorded
        message = MimeMessage()
        message["From"] = settings["sender"]
        message["To"] = row["to_address"]
        message["Subject"] = row["subject"]
        message.set_content(row["body"])
        for item in row["attachments"] or []:
            message.add_attachment(base64.b64decode(item["content"]), maintype="application",
                                   subtype=DOCX_SUBTYPE, filename=item["filename"])
        try:
            self._send(settings, message)
        except (OSError, smtplib.SMTPException) as exc:
            error = f"{type(exc).__name__}: {exc}"
            with services.store.db.write() as conn:
                conn.execute(sa.update(MAILS).where(MAILS.c.id == row["id"]).values(error=error[:2000]))
            raise jobs.JobFailed(error) from None
        with services.store.db.write() as conn:
            conn.execute(sa.update(MAILS).where(MAILS.c.id == row["id"]).values(status="sent", sent_at=clock.now(),
                                                                                error=""))

    def _send(self, settings: Mapping[str, Any], message: MimeMessage) -> None:
        cls = smtplib.SMTP_SSL if settings["security"] == "ssl" else smtplib.SMTP
        with cls(settings["host"], settings["port"], timeout=SMTP_TIMEOUT) as smtp:
            if settings["security"] == "starttls":
                smtp.starttls()
            if settings["user"]:
                smtp.login(settings["user"], settings["password"])
            smtp.send_message(message)
