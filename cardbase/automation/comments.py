"""Comments on records with @mentions, and the record's activity feed.

Whoever may read a record may comment on it. ``@username`` mentions a user: they are
notified, but only if they may read the record themselves (a mention never shows a
record to someone who may not see it). The activity feed is the record's history (as the
reader may see it), its comments and the e-mails sent from it, newest first, as one list.
"""
from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa

from cardbase.schema_engine.automation_models import Comment, EmailMessage
from cardbase.schema_engine.errors import Forbidden, NotFound, ValidationError
from cardbase.schema_engine.meta_models import User
from cardbase.schema_engine.store.session import Session

from . import clock, notifications
from .actors import actor_of

COMMENTS = Comment.__table__
MAX_BODY = 10_000
MENTION = re.compile(r"(?<![\w.@])@([A-Za-z0-9_.\-]{1,150})")


def _body(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError({"body": "is required: write the comment"})
    if len(value) > MAX_BODY:
        raise ValidationError({"body": f"must be at most {MAX_BODY} characters, got {len(value)}"})
    return value.strip()


def mentioned(tx: Session, body: str) -> list[int]:
    """Ids of the active users named with @username in ``body`` (unknown names are plain text)."""
    names = {m.rstrip(".").lower() for m in MENTION.findall(body)}
    if not names:
        return []
    rows = tx.conn.execute(sa.select(User.id).where(sa.func.lower(User.username).in_(names),
                                                    User.active.is_(True))).scalars()
    return sorted(rows)


def _may_read(tx: Session, obj, rid: int, user_id: int) -> bool:
    other = Session(tx.store, tx.conn, actor_of(tx.conn, user_id), write=False)
    return other.can(obj, "read") and bool(other.fetch(obj, [rid], fields=["id"]))


def add(tx: Session, obj_ref: Any, rid: Any, body: object) -> dict[str, Any]:
    """A comment by the actor on a record they may read; mentioned readers are notified."""
    record = tx.get(obj_ref, rid)
    obj = tx.object(obj_ref)
    text = _body(body)
    mentions = [uid for uid in mentioned(tx, text) if uid != tx.actor.user_id and _may_read(tx, obj, record["id"], uid)]
    cid: int = tx.conn.execute(sa.insert(COMMENTS).returning(COMMENTS.c.id), {
        "object_id": obj.id, "record_id": record["id"], "author_id": tx.actor.user_id, "body": text,
        "mentions": mentions, "created_at": clock.now()}).scalar_one()
    who = tx.actor.username or "system"
    notifications.notify(tx.conn, mentions, "mention", notifications.Note(
        notifications.N_("%(who)s mentioned you on %(object)s %(record)s: %(text)s"),
        {"who": who, "object": obj.label, "record": record.get("code") or record["id"], "text": text[:200]}),
        object_id=obj.id, record_id=record["id"])
    return get(tx, cid)


def get(tx: Session, comment_id: int) -> dict[str, Any]:
    row = tx.conn.execute(sa.select(COMMENTS, User.username).join(User.__table__, User.id == COMMENTS.c.author_id,
                                                                  isouter=True)
                          .where(COMMENTS.c.id == comment_id)).mappings().first()
    if row is None:
        raise NotFound(f"there is no comment {comment_id}")
    return _json(row)


def _json(row: Any) -> dict[str, Any]:
    return {"id": row["id"], "body": row["body"], "author": row["username"] or "system",
            "author_id": row["author_id"], "mentions": row["mentions"], "at": row["created_at"].isoformat() + "Z"}


def list_for(tx: Session, obj_ref: Any, rid: Any) -> list[dict[str, Any]]:
    record = tx.get(obj_ref, rid, trash=None)
    obj = tx.object(obj_ref)
    rows = tx.conn.execute(sa.select(COMMENTS, User.username)
                           .join(User.__table__, User.id == COMMENTS.c.author_id, isouter=True)
                           .where(COMMENTS.c.object_id == obj.id, COMMENTS.c.record_id == record["id"])
                           .order_by(COMMENTS.c.id.desc())).mappings()
    return [_json(r) for r in rows]


def delete(tx: Session, obj_ref: Any, rid: Any, comment_id: Any) -> None:
    """The author or an admin removes a comment."""
    record = tx.get(obj_ref, rid)
    obj = tx.object(obj_ref)
    try:
        cid = int(comment_id)
    except (TypeError, ValueError):
        raise NotFound(f"there is no comment {comment_id!r}") from None
    row = tx.conn.execute(sa.select(COMMENTS.c.author_id).where(
        COMMENTS.c.id == cid, COMMENTS.c.object_id == obj.id, COMMENTS.c.record_id == record["id"])).first()
    if row is None:
        raise NotFound(f"there is no comment {comment_id!r} on this record")
    if row.author_id != tx.actor.user_id and not tx.actor.is_admin:
        raise Forbidden("only its author or an administrator may delete a comment")
    tx.conn.execute(sa.delete(COMMENTS).where(COMMENTS.c.id == cid))


def activity(tx: Session, obj_ref: Any, rid: Any, *, read: Any = None) -> list[dict[str, Any]]:
    """History entries, comments and e-mails of a record, newest first: one feed."""
    obj = tx.object(obj_ref)
    feed: list[dict[str, Any]] = []
    for entry in tx.history(obj, rid, read=read):
        feed.append({"kind": "change", "at": entry["at"], "actor": entry["actor"]["display"],
                     "action": entry["action"], "changes": entry["changes"]})
    rows = tx.conn.execute(sa.select(COMMENTS, User.username, User.display_name)
                           .join(User.__table__, User.id == COMMENTS.c.author_id, isouter=True)
                           .where(COMMENTS.c.object_id == obj.id, COMMENTS.c.record_id == int(rid))).mappings()
    for row in rows:
        feed.append({"kind": "comment", "at": row["created_at"], "actor": row["display_name"] or row["username"]
                     or "system", "id": row["id"], "body": row["body"], "author_id": row["author_id"]})
    mails = EmailMessage.__table__
    for row in tx.conn.execute(sa.select(mails).where(mails.c.object_id == obj.id,
                                                      mails.c.record_id == int(rid))).mappings():
        feed.append({"kind": "email", "at": row["created_at"], "actor": "", "to": row["to_address"],
                     "subject": row["subject"], "status": row["status"]})
    feed.sort(key=lambda item: item["at"], reverse=True)
    return feed
