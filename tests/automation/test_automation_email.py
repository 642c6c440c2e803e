"""Issue 18, point 8: e-mail out -- SMTP settings from the environment, messages from
templates with placeholders, queued through the worker, logged on the record; tested
against a local SMTP server (aiosmtpd)."""
from __future__ import annotations

import socket

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from automation_testlib import actor, clock_later, crm, worker

from cardbase.automation import comments, email_out
from cardbase.schema_engine.automation_models import EmailMessage, Job
from cardbase.schema_engine.errors import ValidationError


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        self.messages.append(envelope)
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp(monkeypatch):
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    monkeypatch.setenv("CARDBASE_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("CARDBASE_SMTP_PORT", str(port))
    monkeypatch.setenv("CARDBASE_SMTP_FROM", "crm@example.com")
    yield inbox, controller
    try:
        controller.stop()
    except Exception:
        pass


def test_a_templated_message_is_sent_by_the_worker_and_logged_on_the_record(db, smtp):
    inbox, controller = smtp
    controller.start()
    store = crm(db)
    root = actor(db, "root")
    deal = store.create(root, "deal", {"title": "Acme renewal", "probability": 70})
    with store.session(root, write=True) as tx:
        obj = tx.object("deal")
        record = tx.get(obj, deal["id"])
        email_out.from_template(tx.conn, obj, record, "client@example.com", "About {title}",
                                "Dear client,\nthe chance for {title} is {probability} %.\n", sender_id=root.user_id)
    assert inbox.messages == []  # queued, not sent in the request
    worker(store).run_once()
    [sent] = inbox.messages
    assert sent.mail_from == "crm@example.com" and sent.rcpt_tos == ["client@example.com"]
    text = sent.content.decode()
    assert "Subject: About Acme renewal" in text and "the chance for Acme renewal is 70 %." in text
    with store.session(root) as tx:
        feed = comments.activity(tx, "deal", deal["id"])
        row = tx.conn.execute(sa.select(EmailMessage.__table__)).mappings().one()
    assert row["status"] == "sent" and row["sent_at"] is not None
    assert feed[0]["kind"] == "email" and feed[0]["subject"] == "About Acme renewal"


def test_an_unreachable_server_is_retried_until_it_answers(db, smtp, monkeypatch):
    inbox, controller = smtp
    store = crm(db)
    root = actor(db, "root")
    with store.session(root, write=True) as tx:
        email_out.queue(tx.conn, "client@example.com", "Hello", "Body")
    w = worker(store)
    w.run_once()  # the server is not started yet
    with db.read() as conn:
        job = conn.execute(sa.select(Job.__table__)).mappings().one()
        mail = conn.execute(sa.select(EmailMessage.__table__)).mappings().one()
    assert job["status"] == "pending" and job["attempts"] == 1 and "Connection" in job["last_error"]
    assert mail["status"] == "queued" and mail["error"]
    controller.start()
    clock_later(monkeypatch, 60)
    w.run_once()
    assert len(inbox.messages) == 1


def test_an_unknown_placeholder_or_a_bad_address_is_refused_before_anything_is_queued(db, smtp):
    store = crm(db)
    root = actor(db, "root")
    with store.session(root, write=True) as tx:
        obj = tx.object("deal")
        with pytest.raises(ValidationError) as unknown:
            email_out.from_template(tx.conn, obj, {"id": 1}, "a@example.com", "Hi {first_name}", "x")
        assert unknown.value.errors["subject"] == ["unknown placeholder {first_name}: 'deal' has no field 'first_name'"]
        with pytest.raises(ValidationError) as stray:
            email_out.from_template(tx.conn, obj, {"id": 1}, "a@example.com", "Hi", "50 { percent")
        assert "stray brace" in stray.value.errors["body"][0]
        with pytest.raises(ValidationError) as code:
            email_out.from_template(tx.conn, obj, {"id": 1}, "a@example.com", "Hi {title.__class__}", "x")
        assert "is not a placeholder" in code.value.errors["subject"][0]
        for bad in ("no-at-sign", "a@b", "x@example.com\nBcc: all@example.com", "a@example.com, b@example.com"):
            with pytest.raises(ValidationError) as address:
                email_out.queue(tx.conn, bad, "Hi", "x")
            assert "is not an e-mail address" in address.value.errors["to"][0]
        with pytest.raises(ValidationError) as header:
            email_out.queue(tx.conn, "a@example.com", "Hi\nBcc: all@example.com", "x")
        assert header.value.errors["subject"] == ["must be one line"]
        assert tx.conn.execute(sa.select(sa.func.count()).select_from(EmailMessage.__table__)).scalar() == 0


def test_smtp_settings_come_from_the_environment():
    assert email_out.smtp_settings({}) is None
    settings = email_out.smtp_settings({"CARDBASE_SMTP_HOST": "mail.example.com", "CARDBASE_SMTP_SECURITY": "ssl",
                                        "CARDBASE_SMTP_USER": "crm", "CARDBASE_SMTP_PASSWORD": "pw"})
    assert settings == {"host": "mail.example.com", "port": 465, "user": "crm", "password": "pw", "security": "ssl",
                        "sender": "cardbase@localhost"}
    with pytest.raises(ValidationError) as bad:
        email_out.smtp_settings({"CARDBASE_SMTP_HOST": "x", "CARDBASE_SMTP_PORT": "twenty-five"})
    assert "CARDBASE_SMTP_PORT" in bad.value.errors


def test_a_scenario_generates_a_document_from_a_word_template_and_emails_it(db, smtp):
    """ "On a new order, generate the invoice and e-mail it": the deal's Word template is
    filled for the record and attached to the e-mail the scenario sends."""
    import io
    import zipfile

    from automation_testlib import sales_group
    from invoice_fixture import docx_with

    from cardbase.automation import scenarios
    from cardbase.doc_templates import storage

    inbox, controller = smtp
    controller.start()
    store = crm(db)
    sales_group(db)
    root = actor(db, "root")
    storage.create_template(store, root, "deal", name="Offer", filename="offer.docx",
                            content=docx_with(["Offer for {{ deal.title }}"]))
    with store.session(root, write=True) as tx:
        with pytest.raises(ValidationError) as missing:
            scenarios.create(tx, {"name": "Bad", "object": "deal", "trigger": {"type": "created"}, "actions": [
                {"type": "send_email", "to": "c@example.com", "subject": "x", "body": "x", "attach": "Invoice"}]})
        assert "no Word template 'Invoice'" in missing.value.errors["actions[0].attach"][0]
        scenarios.create(tx, {"name": "Send offer", "object": "deal", "trigger": {"type": "created"}, "actions": [
            {"type": "send_email", "to": "client@example.com", "subject": "Your offer {title}",
             "body": "Please find the offer attached.", "attach": "Offer"}]})
    store.create(root, "deal", {"title": "Solar roof"})
    worker(store).run_once()
    [sent] = inbox.messages
    from email import message_from_bytes
    message = message_from_bytes(sent.content)
    [part] = [p for p in message.walk() if p.get_filename()]
    assert part.get_filename().startswith("Offer ") and part.get_filename().endswith(".docx")
    with zipfile.ZipFile(io.BytesIO(part.get_payload(decode=True))) as docx:
        assert "Offer for Solar roof" in docx.read("word/document.xml").decode()


def test_a_reminder_can_also_come_by_email(db, smtp, monkeypatch):
    from datetime import datetime

    from cardbase.automation import clock, notifications, tasks

    inbox, controller = smtp
    controller.start()
    store = crm(db)
    sam = actor(db, "sam")
    with store.session(sam, write=True) as tx:
        tasks.create(tx, {"title": "Renew contract", "remind_at": "2026-12-10T09:00:00Z", "email_reminder": True})
        tasks.create(tx, {"title": "Quiet one", "remind_at": "2026-12-10T09:00:00Z"})
        with pytest.raises(ValidationError):
            tasks.create(tx, {"title": "x", "email_reminder": "yes"})
    monkeypatch.setattr(clock, "now", lambda: datetime(2026, 12, 10, 9, 0))
    worker(store).run_once()
    [sent] = inbox.messages
    assert sent.rcpt_tos == ["sam@example.com"] and b"Reminder: Renew contract" in sent.content
    with db.read() as conn:
        assert notifications.unread_count(conn, sam.user_id) == 2  # both in the bell, one also by e-mail
