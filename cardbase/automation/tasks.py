"""Tasks and reminders, attached to any record, with RRULE recurrence (python-dateutil).

Why a system table of tasks keyed by (object, record id) and not a seeded "Task" object:
a task must attach to a record of *any* object, including objects the power user adds
later. A seeded object would need one link field per target object (or a generic link no
field type has); the peers do it the same way -- Salesforce's Task has a polymorphic
WhatId, Frappe's ToDo a (reference_type, reference_name) pair, Twenty a task-target
table. Rights follow the record: whoever may read a record sees its tasks; a task without
a record is seen by its assignee and its author (and admins).

A recurring task, when completed, makes its next occurrence (the next date of the rule
after the due date), with the reminder moved by the same offset. Reminders are sent by the
worker's ticker (``due_reminders``) as notifications and, for users with an e-mail address
who asked for it, e-mails.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Mapping

import sqlalchemy as sa
from dateutil import rrule as dateutil_rrule  # type: ignore[import-untyped, unused-ignore]
from sqlalchemy import Connection

from cardbase.schema_engine.automation_models import Task
from cardbase.schema_engine.errors import Forbidden, NotFound, ValidationError
from cardbase.schema_engine.meta_models import User
from cardbase.schema_engine.store.session import Session

from . import clock, notifications
from .actors import user_id_by_name

TASKS = Task.__table__
FIELDS = {"title", "object", "record", "assignee", "due_at", "remind_at", "rrule", "done", "email_reminder"}
TOO_OFTEN = {dateutil_rrule.SECONDLY, dateutil_rrule.MINUTELY}


def _when(value: object, field: str) -> datetime | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValidationError({field: "must be a date and time like 2026-12-24T09:00:00Z"})
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValidationError({field: f"'{value}' is not a date and time like 2026-12-24T09:00:00Z"}) from None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(timezone.utc).replace(tzinfo=None)
    return parsed


def parse_rrule(value: object, start: datetime | None) -> str:
    """A recurrence rule (RFC 5545 RRULE, e.g. "FREQ=WEEKLY;BYDAY=MO") checked by dateutil."""
    if value is None or value == "":
        return ""
    if not isinstance(value, str) or len(value) > 500:
        raise ValidationError({"rrule": "must be an RRULE text of at most 500 characters"})
    if start is None:
        raise ValidationError({"rrule": "a recurring task needs a due date (due_at)"})
    text = value.strip().removeprefix("RRULE:")
    try:
        rule = dateutil_rrule.rrulestr(text, dtstart=start)
    except (ValueError, TypeError) as exc:
        raise ValidationError({"rrule": f"is not a valid RRULE: {exc}"}) from None
    if not isinstance(rule, dateutil_rrule.rrule):
        raise ValidationError({"rrule": "must be one RRULE (no RDATE or EXRULE sets)"})
    if rule._freq in TOO_OFTEN:  # noqa: SLF001 (dateutil keeps the frequency there)
        raise ValidationError({"rrule": "must repeat at most hourly"})
    return text


def next_due(rule_text: str, due: datetime) -> datetime | None:
    rule = dateutil_rrule.rrulestr(rule_text, dtstart=due)
    return rule.after(due)


def _json(row: Mapping[Any, Any], schema) -> dict[str, Any]:
    obj = schema.object(row["object_id"]) if row["object_id"] and schema.has_object(row["object_id"]) else None
    iso = lambda v: v.isoformat() + "Z" if v else None  # noqa: E731
    return {"id": row["id"], "title": row["title"], "object": obj.api_name if obj else None,
            "record": row["record_id"], "assignee": row["assignee_id"], "assignee_name": row.get("assignee_name"),
            "due_at": iso(row["due_at"]), "remind_at": iso(row["remind_at"]), "rrule": row["rrule"],
            "done": row["done_at"] is not None, "created_by": row["created_by"],
            "email_reminder": bool(row["email_reminder"])}


def _select():
    return sa.select(TASKS, sa.func.coalesce(User.display_name, User.username).label("assignee_name")).join(
        User.__table__, User.id == TASKS.c.assignee_id, isouter=True)


def create(tx: Session, spec: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(spec, Mapping):
        raise ValidationError({"task": "must be a JSON object"})
    unknown = set(spec) - FIELDS
    if unknown:
        raise ValidationError({k: "is not a task field" for k in sorted(unknown)})
    title = spec.get("title")
    if not isinstance(title, str) or not title.strip() or len(title) > 300:
        raise ValidationError({"title": "is required: a text of at most 300 characters"})
    object_id = record_id = None
    if spec.get("object") is not None or spec.get("record") is not None:
        if not isinstance(spec.get("object"), str) or not tx.schema.has_object(spec["object"]):
            raise ValidationError({"object": f"there is no object {spec.get('object')!r}"})
        record = tx.get(spec["object"], spec.get("record"))  # must exist and be readable
        object_id, record_id = tx.object(spec["object"]).id, record["id"]
    assignee = tx.actor.user_id if spec.get("assignee") is None else user_id_by_name(tx.conn, spec["assignee"],
                                                                                     "assignee")
    due, remind = _when(spec.get("due_at"), "due_at"), _when(spec.get("remind_at"), "remind_at")
    rule = parse_rrule(spec.get("rrule"), due)
    by_email = spec.get("email_reminder", False)
    if not isinstance(by_email, bool):
        raise ValidationError({"email_reminder": "must be true or false"})
    tid: int = tx.conn.execute(sa.insert(TASKS).returning(TASKS.c.id), {
        "title": title.strip(), "object_id": object_id, "record_id": record_id, "assignee_id": assignee,
        "created_by": tx.actor.user_id, "due_at": due, "remind_at": remind, "rrule": rule,
        "email_reminder": by_email, "created_at": clock.now()}).scalar_one()
    if assignee != tx.actor.user_id and assignee is not None:
        notifications.notify(tx.conn, [assignee], "task", notifications.Note(
            notifications.N_("%(who)s gave you a task: %(title)s"), {"who": tx.actor.username, "title": title.strip()}),
            object_id=object_id, record_id=record_id)
    return get(tx, tid)


def _row(tx: Session, task_id: Any) -> Mapping[Any, Any]:
    try:
        tid = int(task_id)
    except (TypeError, ValueError):
        raise NotFound(f"there is no task {task_id!r}") from None
    row = tx.conn.execute(_select().where(TASKS.c.id == tid)).mappings().first()
    if row is None or not _may_see(tx, row):
        raise NotFound(f"there is no task {task_id!r}")
    return row


def _may_see(tx: Session, row: Mapping[Any, Any]) -> bool:
    if tx.actor.is_admin or tx.actor.user_id in (row["assignee_id"], row["created_by"]):
        return True
    if row["object_id"] is None or not tx.schema.has_object(row["object_id"]):
        return False
    obj = tx.schema.object(row["object_id"])
    return tx.can(obj, "read") and bool(tx.fetch(obj, [row["record_id"]], fields=["id"]))


def get(tx: Session, task_id: Any) -> dict[str, Any]:
    return _json(_row(tx, task_id), tx.schema)


def complete(tx: Session, task_id: Any) -> dict[str, Any]:
    """Mark done (assignee, author or admin); a recurring task makes its next occurrence,
    returned as "next"."""
    row = _row(tx, task_id)
    if not (tx.actor.is_admin or tx.actor.user_id in (row["assignee_id"], row["created_by"])):
        raise Forbidden("only the task's assignee or author may complete it")
    if row["done_at"] is not None:
        raise ValidationError({"done": "the task is already done"})
    tx.conn.execute(sa.update(TASKS).where(TASKS.c.id == row["id"]).values(done_at=clock.now()))
    out = get(tx, row["id"])
    if row["rrule"] and row["due_at"] is not None:
        due = next_due(row["rrule"], row["due_at"])
        if due is not None:
            remind = due - (row["due_at"] - row["remind_at"]) if row["remind_at"] else None
            nid: int = tx.conn.execute(sa.insert(TASKS).returning(TASKS.c.id), {
                "title": row["title"], "object_id": row["object_id"], "record_id": row["record_id"],
                "assignee_id": row["assignee_id"], "created_by": row["created_by"], "due_at": due,
                "remind_at": remind, "rrule": row["rrule"], "email_reminder": row["email_reminder"],
                "created_at": clock.now()}).scalar_one()
            out["next"] = get(tx, nid)
    return out


def for_record(tx: Session, obj_ref: Any, rid: Any, *, read: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    """The record's tasks. ``read``: the record as this session just read it (a card has),
    which spares reading it again to check it is visible."""
    obj = tx.object(obj_ref)
    if read is not None and read.get("id") == rid:
        tx.require_purpose(obj, "read")
        record_id = rid
    else:
        record_id = tx.get(obj_ref, rid, trash=None)["id"]
    rows = tx.conn.execute(_select().where(TASKS.c.object_id == obj.id, TASKS.c.record_id == record_id)
                           .order_by(TASKS.c.done_at.is_not(None), TASKS.c.due_at, TASKS.c.id)).mappings()
    return [_json(r, tx.schema) for r in rows]


def my_tasks(tx: Session, *, open_only: bool = True, limit: int = 200) -> list[dict[str, Any]]:
    """"My tasks": the actor's, soonest due first (no due date last)."""
    query = _select().where(TASKS.c.assignee_id == tx.actor.user_id)
    if open_only:
        query = query.where(TASKS.c.done_at.is_(None))
    rows = tx.conn.execute(query.order_by(TASKS.c.due_at.is_(None), TASKS.c.due_at, TASKS.c.id).limit(limit))
    return [_json(r, tx.schema) for r in rows.mappings()]


def due_reminders(conn: Connection, now: datetime | None = None) -> int:
    """Notify the assignees of open tasks whose reminder time has come (once each)."""
    now = now or clock.now()
    rows = conn.execute(sa.select(TASKS).where(TASKS.c.remind_at <= now, TASKS.c.reminded_at.is_(None),
                                               TASKS.c.done_at.is_(None)).with_for_update(skip_locked=True)
                        ).mappings().all()
    for row in rows:
        note = (notifications.Note(notifications.N_("Reminder: %(title)s (due %(due)s UTC)"),
                                   {"title": row["title"], "due": f"{row['due_at']:%Y-%m-%d %H:%M}"})
                if row["due_at"] else notifications.Note(notifications.N_("Reminder: %(title)s"), {"title": row["title"]}))
        notifications.notify(conn, [row["assignee_id"]], "reminder", note,
                             object_id=row["object_id"], record_id=row["record_id"], email=row["email_reminder"])
    if rows:
        conn.execute(sa.update(TASKS).where(TASKS.c.id.in_([r["id"] for r in rows])).values(reminded_at=now))
    return len(rows)


def reminder_ticker(services: Any) -> int:
    """The worker's periodic check: a read first, so an idle worker takes no write lock."""
    with services.store.db.read() as conn:
        due = conn.execute(sa.select(TASKS.c.id).where(TASKS.c.remind_at <= clock.now(), TASKS.c.reminded_at.is_(None),
                                                       TASKS.c.done_at.is_(None)).limit(1)).first()
    if due is None:
        return 0
    with services.store.db.write() as conn:
        return due_reminders(conn)
