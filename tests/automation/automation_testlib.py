"""Helpers of the automation tests: a small CRM with users, a local webhook receiver
that can be told to fail, hang, trickle or flood, and a worker over the test database.

Imported by tests/automation/test_automation_*.py (the directory is on sys.path)."""
from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator

import pytest
import sqlalchemy as sa
from db_templates import from_template

from cardbase.automation import confirm
from cardbase.automation.worker import Services, Worker
from cardbase.automation.actors import actor_of
from cardbase.schema_engine.accounts import groups, users
from cardbase.schema_engine.actor import SYSTEM, Actor
from cardbase.schema_engine.rights.admin import set_object_rights
from cardbase.schema_engine.automation_models import AllowedHost
from cardbase.schema_engine.meta_models import User
from cardbase.schema_engine.schema_service import SchemaService
from cardbase.schema_engine.store import RecordStore

PASSWORD = "s3cret-password"


def build(db) -> None:
    svc = SchemaService(db)
    svc.create_object(SYSTEM, {
        "name": "organisation", "label": "Organisation", "label_plural": "Organisations", "fields": [
            {"name": "name", "label": "Name", "type": "string", "required": True},
            {"name": "city", "label": "City", "type": "string"}]})
    svc.create_object(SYSTEM, {
        "name": "deal", "label": "Deal", "label_plural": "Deals", "fields": [
            {"name": "title", "label": "Title", "type": "string", "required": True},
            {"name": "stage", "label": "Stage", "type": "choice", "default": "lead",
             "options": {"choices": ["lead", "review", "won"]}},
            {"name": "probability", "label": "Probability", "type": "integer"},
            {"name": "close_date", "label": "Close date", "type": "date"},
            {"name": "secret_note", "label": "Secret note", "type": "text"},
            {"name": "organisation", "label": "Organisation", "type": "link",
             "options": {"target": "organisation", "on_delete": "restrict"}}]})
    users.create_user(db, SYSTEM, "root", PASSWORD, is_admin=True)
    users.create_user(db, SYSTEM, "sam", PASSWORD, display_name="Sam", email="sam@example.com")
    users.create_user(db, SYSTEM, "kim", PASSWORD, display_name="Kim", email="kim@example.com")


def crm(db) -> RecordStore:
    """The CRM and users on ``db``; a store with the confirming hook installed."""
    from_template(db, "automation_crm", build)
    store = RecordStore(db)
    confirm.install(store)
    return store


def actor(db, name: str) -> Actor:
    """The Actor of a user with its groups, as the platform builds it."""
    with db.read() as conn:
        return actor_of(conn, conn.execute(sa.select(User.id).where(User.username == name)).scalar_one())


def sales_group(db, rights=("read", "create", "edit", "delete")) -> None:
    """sam joins "Sales", which may ``rights`` deals and read organisations; kim has no rights."""
    groups.create_group(db, SYSTEM, "Sales")
    groups.add_member(db, SYSTEM, "sam", "Sales")
    set_object_rights(db, SYSTEM, "Sales", "deal", list(rights))
    set_object_rights(db, SYSTEM, "Sales", "organisation", ["read"])


def allow_loopback(db) -> None:
    """The test receiver listens on 127.0.0.1: the admin allows it (refused otherwise)."""
    with db.write() as conn:
        conn.execute(sa.insert(AllowedHost.__table__), [{"pattern": "127.0.0.1", "allow_private": True},
                                                         {"pattern": "localhost", "allow_private": True}])


def worker(store: RecordStore, **kw: Any) -> Worker:
    return Worker(Services(store=store, webhook_timeout=kw.pop("timeout", 2.0)), **kw)


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """A local HTTP receiver. ``plan``: what to do for the next requests, one entry each,
    then ``default``. An entry is (status, body) or one of "hang" (never answer), ("slow",
    seconds) (trickle the body a byte a second), ("huge", bytes) (stream that much)."""

    server: ThreadingHTTPServer
    received: list[Received] = field(default_factory=list)
    plan: list[Any] = field(default_factory=list)
    default: Any = (200, b"ok")
    release: threading.Event = field(default_factory=threading.Event)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def wait_for(self, n: int, timeout: float = 10.0) -> None:
        end = time.monotonic() + timeout
        while len(self.received) < n and time.monotonic() < end:
            time.sleep(0.02)
        assert len(self.received) >= n, f"{len(self.received)} requests, expected {n}"


def start_receiver() -> Receiver:
    holder: dict[str, Receiver] = {}

    class Handle(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:  # quiet
            pass

        def do_POST(self) -> None:  # noqa: N802
            rec = holder["r"]
            length = int(self.headers.get("Content-Length", 0))
            body = self.rfile.read(length)
            rec.received.append(Received(self.path, dict(self.headers), body))
            step = rec.plan.pop(0) if rec.plan else rec.default
            try:
                if step == "hang":
                    rec.release.wait(30)
                    return
                if isinstance(step, tuple) and step[0] == "slow":
                    self.send_response(200)
                    self.send_header("Content-Length", str(int(step[1])))
                    self.end_headers()
                    for _ in range(int(step[1])):
                        if rec.release.wait(1.0):
                            return
                        self.wfile.write(b"x")
                        self.wfile.flush()
                    return
                if isinstance(step, tuple) and step[0] == "huge":
                    self.send_response(200)
                    self.send_header("Content-Length", str(step[1]))
                    self.end_headers()
                    chunk = b"x" * 65536
                    for _ in range(step[1] // len(chunk)):
                        self.wfile.write(chunk)
                    return
                status, payload = step
                payload = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handle)
    server.daemon_threads = True
    receiver = Receiver(server)
    holder["r"] = receiver
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return receiver


def stop_receiver(receiver: Receiver) -> None:
    receiver.release.set()
    receiver.server.shutdown()
    receiver.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A running local webhook receiver, stopped after the test (import it as a fixture)."""
    r = start_receiver()
    yield r
    stop_receiver(r)


@pytest.fixture
def webhook_crm(db, receiver) -> tuple[RecordStore, Actor]:
    """The CRM with loopback targets allowed, and root: what the webhook tests start from."""
    store = crm(db)
    allow_loopback(db)
    return store, actor(db, "root")


def clock_later(monkeypatch, seconds: float) -> None:
    """Move the automation clock forward (backoff waits are then over)."""
    from datetime import timedelta

    from cardbase.automation import clock

    base = clock.now()
    monkeypatch.setattr(clock, "now", lambda: base + timedelta(seconds=seconds))
