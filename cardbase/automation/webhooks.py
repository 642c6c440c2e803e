"""Webhooks that notify: definitions, the body of an event, delivery with a log, redelivery, pause.

A webhook belongs to the user who made it (who must be allowed to configure its object)
and sends what that owner may read: the record before and after the change, with the
fields hidden from the owner left out. Events are created, updated, deleted, restored, or
"field_changed" (an update that changed the webhook's ``field``).

The body is built when the worker takes the event from the outbox (right after the
commit) and kept with the job, so every retry and a manual redelivery send the same
bytes; the signature is made fresh for each try (its timestamp is the try's).
After ``PAUSE_AFTER`` failed tries in a row the webhook pauses and its owner is notified;
resuming it sets the count back.
"""
from __future__ import annotations

import json
import secrets
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping

import sqlalchemy as sa
from sqlalchemy import Connection

from cardbase.schema_engine.automation_models import Webhook, WebhookDelivery
from cardbase.schema_engine.errors import Forbidden, NotFound, ValidationError
from cardbase.schema_engine.meta_models import HistoryEntry
from cardbase.schema_engine.store.session import Session

from . import clock, http_out, jobs, notifications, signing
from .actors import actor_of

if TYPE_CHECKING:  # pragma: no cover
    from .worker import Services

HOOKS = Webhook.__table__
LOG = WebhookDelivery.__table__
EVENT_TOPICS = {"created": "record.created", "updated": "record.updated", "deleted": "record.deleted",
                "restored": "record.restored", "field_changed": "record.updated"}
KINDS = ("notify", "confirm")
PAUSE_AFTER = 10  # failed tries in a row
DELIVERY_TIMEOUT = 10.0  # seconds for a notifying webhook's whole request
JOB_KIND = "webhook"


# ---- definitions -------------------------------------------------------------------------------
def _text(spec: Mapping[Any, Any], key: str, *, required: bool = True, max_len: int = 200) -> str | None:
    value = spec.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ValidationError({key: "is required and must be a text"})
    if len(value) > max_len:
        raise ValidationError({key: f"must be at most {max_len} characters"})
    return value.strip()


def _columns(tx: Session, spec: Mapping[Any, Any], own: Iterable[str], current: Mapping[Any, Any] | None) -> dict:
    if not isinstance(spec, Mapping):
        raise ValidationError({"webhook": "must be a JSON object"})
    unknown = set(spec) - {"name", "kind", "object", "events", "field", "url", "active", "timeout_ms", "on_timeout"}
    if unknown:
        raise ValidationError({k: "is not a webhook setting" for k in sorted(unknown)})
    merged = {**(current or {}), **spec}
    name = _text(merged, "name")
    kind = merged.get("kind", "notify")
    if kind not in KINDS:
        raise ValidationError({"kind": f"must be one of {', '.join(KINDS)}"})
    obj_ref = merged.get("object")
    if not isinstance(obj_ref, str) or not tx.schema.has_object(obj_ref):
        raise ValidationError({"object": f"there is no object {obj_ref!r}"})
    obj = tx.schema.object(obj_ref)
    tx.require(obj, "configure")
    events = merged.get("events")
    if not isinstance(events, list) or not events or any(e not in EVENT_TOPICS for e in events):
        raise ValidationError({"events": f"must be a non-empty list of {', '.join(EVENT_TOPICS)}"})
    field = merged.get("field")
    if "field_changed" in events:
        if not isinstance(field, str) or field not in obj.fields_by_name:
            raise ValidationError({"field": f"must name a field of '{obj.api_name}' for the event field_changed"})
    else:
        field = None
    url = _text(merged, "url", max_len=2000)
    http_out.check_target(tx.conn, url, own=own)
    active = merged.get("active", True)
    if not isinstance(active, bool):
        raise ValidationError({"active": "must be true or false"})
    timeout_ms = merged.get("timeout_ms", 2000)
    if isinstance(timeout_ms, bool) or not isinstance(timeout_ms, int) or not 100 <= timeout_ms <= 10000:
        raise ValidationError({"timeout_ms": "must be a whole number of milliseconds from 100 to 10000"})
    on_timeout = merged.get("on_timeout", "refuse")
    if on_timeout not in ("refuse", "allow"):
        raise ValidationError({"on_timeout": "must be refuse or allow"})
    return {"name": name, "kind": kind, "object_id": obj.id, "events": list(dict.fromkeys(events)), "field": field,
            "url": url, "active": active, "timeout_ms": timeout_ms, "on_timeout": on_timeout}


def to_json(tx: Session, row: Mapping[Any, Any], *, with_secret: bool = False) -> dict[str, Any]:
    obj = tx.schema.object(row["object_id"]) if tx.schema.has_object(row["object_id"]) else None
    out = {"id": row["id"], "name": row["name"], "kind": row["kind"], "object": obj.api_name if obj else None,
           "events": row["events"], "field": row["field"], "url": row["url"], "active": row["active"],
           "paused": row["paused_at"] is not None, "failures": row["failures"], "owner": row["owner_id"],
           "timeout_ms": row["timeout_ms"], "on_timeout": row["on_timeout"]}
    if with_secret:
        out["secret"] = row["secret"]
    return out


def _visible(tx: Session):
    query = sa.select(HOOKS)
    if not tx.actor.is_admin:
        query = query.where(HOOKS.c.owner_id == tx.actor.user_id)
    return query


def get(tx: Session, webhook_id: Any) -> Mapping[Any, Any]:
    try:
        wid = int(webhook_id)
    except (TypeError, ValueError):
        raise NotFound(f"there is no webhook {webhook_id!r}") from None
    row = tx.conn.execute(_visible(tx).where(HOOKS.c.id == wid)).mappings().first()
    if row is None:
        raise NotFound(f"there is no webhook {webhook_id!r}")
    return row


def list_all(tx: Session) -> list[dict[str, Any]]:
    return [to_json(tx, r) for r in tx.conn.execute(_visible(tx).order_by(HOOKS.c.id)).mappings()]


def create(tx: Session, spec: Mapping[Any, Any], *, own: Iterable[str] = ()) -> dict[str, Any]:
    """A new webhook owned by the actor; its secret is in the answer (and on its page)."""
    if tx.actor.user_id is None:
        raise Forbidden("a webhook needs a user as its owner")
    values = _columns(tx, spec, own, None)
    wid: int = tx.conn.execute(sa.insert(HOOKS).returning(HOOKS.c.id), {
        **values, "owner_id": tx.actor.user_id, "secret": secrets.token_hex(32), "failures": 0,
        "created_at": clock.now()}).scalar_one()
    return to_json(tx, get(tx, wid), with_secret=True)


def _as_spec(tx: Session, row: Mapping[Any, Any]) -> dict[str, Any]:
    data = to_json(tx, row)
    return {k: data[k] for k in ("name", "kind", "object", "events", "field", "url", "active", "timeout_ms",
                                 "on_timeout")}


def update(tx: Session, webhook_id: Any, spec: Mapping[Any, Any], *, own: Iterable[str] = ()) -> dict[str, Any]:
    row = get(tx, webhook_id)
    values = _columns(tx, spec, own, _as_spec(tx, row))
    if spec.get("active") is True:  # switching on again resumes a paused webhook
        values.update(paused_at=None, failures=0)
    tx.conn.execute(sa.update(HOOKS).where(HOOKS.c.id == row["id"]).values(**values))
    return to_json(tx, get(tx, row["id"]))


def delete(tx: Session, webhook_id: Any) -> None:
    row = get(tx, webhook_id)
    tx.conn.execute(sa.delete(HOOKS).where(HOOKS.c.id == row["id"]))


def deliveries(tx: Session, webhook_id: Any, limit: int = 50) -> list[dict[str, Any]]:
    row = get(tx, webhook_id)
    rows = tx.conn.execute(sa.select(LOG).where(LOG.c.webhook_id == row["id"])
                           .order_by(LOG.c.id.desc()).limit(limit)).mappings()
    return [{"id": r["id"], "event": r["event_id"], "topic": r["topic"], "attempt": r["attempt"],
             "status": r["status"], "response_status": r["response_status"], "duration_ms": r["duration_ms"],
             "response_excerpt": r["response_excerpt"], "error": r["error"], "at": r["at"].isoformat() + "Z"}
            for r in rows]


def redeliver(tx: Session, webhook_id: Any, delivery_id: Any) -> int:
    """Queue one logged delivery again (same body, new signature); the new job's id."""
    row = get(tx, webhook_id)
    try:
        did = int(delivery_id)
    except (TypeError, ValueError):
        raise ValidationError({"delivery": "must be a delivery id"}) from None
    logged = tx.conn.execute(sa.select(LOG.c.job_id).where(LOG.c.id == did, LOG.c.webhook_id == row["id"])).first()
    if logged is None:
        raise ValidationError({"delivery": f"webhook {row['id']} has no delivery {did}"})
    payload = tx.conn.execute(sa.select(jobs.JOBS.c.payload).where(jobs.JOBS.c.id == logged.job_id)).scalar()
    if payload is None:
        raise ValidationError({"delivery": f"the body of delivery {did} was pruned; it cannot be sent again"})
    return jobs.enqueue(tx.conn, JOB_KIND, {**payload, "redelivery": True})


# ---- events -> jobs ------------------------------------------------------------------------------
def matches(hook: Mapping[Any, Any], event: Mapping[Any, Any]) -> bool:
    for name in hook["events"]:
        if EVENT_TOPICS.get(name) != event["topic"]:
            continue
        if name != "field_changed" or hook["field"] in (event["payload"] or {}).get("fields", ()):
            return True
    return False


def changes_of(conn: Connection, obj, rid: int, version: Any, readable) -> dict[str, list[Any]]:
    if version is None:
        return {}
    h = HistoryEntry.__table__
    raw = conn.execute(sa.select(h.c.changes).where(h.c.object_id == obj.id, h.c.record_id == rid,
                                                    h.c.version == version).order_by(h.c.id.desc())).scalar()
    by_key = {f.key: f for f in obj.fields}
    out = {}
    for key, pair in (raw or {}).items():
        field = by_key.get(key)
        if field is not None and (readable is None or readable(field)):
            out[field.api_name] = pair
    return out


def owner_session(store, conn: Connection, owner_id: int, cache: dict[int, Session | None] | None = None
                  ) -> Session | None:
    """A read session of the webhook's owner (None: the owner is gone), once per batch."""
    if cache is not None and owner_id in cache:
        return cache[owner_id]
    try:
        tx: Session | None = Session(store, conn, actor_of(conn, owner_id, "owner"), write=False)
    except ValidationError:
        tx = None
    if cache is not None:
        cache[owner_id] = tx
    return tx


def event_body(store, conn: Connection, owner_id: int, event: Mapping[Any, Any],
               sessions: dict[int, Session | None] | None = None) -> dict[str, Any] | None:
    """The JSON an event sends, as the owner may read it; None if the owner may not read
    the object or the record (nothing is sent then)."""
    tx = owner_session(store, conn, owner_id, sessions)
    if tx is None:
        return None
    obj = tx.schema.object(event["object_id"]) if tx.schema.has_object(event["object_id"]) else None
    if obj is None or not tx.can(obj, "read"):
        return None
    payload = event["payload"] or {}
    rid = event["record_id"]
    current = tx.fetch(obj, [rid], trash=None).get(rid) if rid is not None else None
    if current is None and event["topic"] != "record.purged":
        return None
    after = tx.to_json(obj, current) if current is not None else None
    changes = changes_of(conn, obj, rid, payload.get("version"), tx.access.field_readable(obj))
    before = None
    if after is not None and event["topic"] != "record.created":
        before = {**after, **{k: v[0] for k, v in changes.items()}}
        after = {**after, **{k: v[1] for k, v in changes.items()}}
    return {"event": event["topic"], "event_id": event["id"], "object": obj.api_name, "id": rid,
            "at": event["created_at"].isoformat() + "Z", "before": before, "after": after,
            "changed": sorted(changes)}


def dispatch(services: "Services", conn: Connection, events: list[Mapping[Any, Any]]) -> int:
    """Queue one delivery job per (event, notifying webhook that wants it); one query for the hooks."""
    hooks = conn.execute(sa.select(HOOKS).where(HOOKS.c.kind == "notify", HOOKS.c.active.is_(True),
                                                HOOKS.c.paused_at.is_(None))).mappings().all()
    queued = 0
    sessions: dict[int, Session | None] = {}
    for event in events:
        for hook in hooks:
            if hook["object_id"] != event["object_id"] or not matches(hook, event):
                continue
            body = event_body(services.store, conn, hook["owner_id"], event, sessions)
            if body is None:
                continue
            jobs.enqueue(conn, JOB_KIND, {"webhook_id": hook["id"], "event_id": event["id"], "topic": event["topic"],
                                          "body": json.dumps(body, separators=(",", ":"), default=str)})
            queued += 1
    return queued


# ---- delivery ------------------------------------------------------------------------------------
class DeliverWebhook:
    """The job handler: check the target again, sign, POST; the log row, the failure count
    and a pause are written with the job's result."""

    kind = JOB_KIND
    parallel = True  # network calls: the worker runs a batch of them side by side

    def run(self, services: "Services", job: jobs.ClaimedJob) -> Callable[[Connection], None]:
        p = job.payload
        with services.store.db.read() as conn:
            hook = conn.execute(sa.select(HOOKS).where(HOOKS.c.id == p["webhook_id"])).mappings().first()
            if hook is None:
                raise jobs.JobFailed("the webhook was deleted", retry=False)
            if hook["paused_at"] is not None or not hook["active"]:
                raise jobs.JobFailed("the webhook is paused or switched off", retry=False)
            try:
                target = http_out.check_target(conn, hook["url"], own=services.own_urls)
            except ValidationError as exc:
                raise jobs.JobFailed(exc.message, retry=False, finish=_logger(job, hook, None, exc.message)) from None
        body = p["body"].encode()
        headers = signing.headers(hook["secret"], body, event=p["topic"], delivery=str(p["event_id"]))
        answer = http_out.post(target, body, headers, timeout=services.webhook_timeout)
        error = answer.error or ("" if answer.ok else f"the receiver answered {answer.status}")
        finish = _logger(job, hook, answer, error)
        if not answer.ok:
            raise jobs.JobFailed(error, finish=finish)
        return finish


def _logger(job: jobs.ClaimedJob, hook: Mapping[Any, Any], answer: http_out.Answer | None,
            error: str) -> Callable[[Connection], None]:
    """What one try writes: its log row, and the webhook's failure count (pausing it and
    telling its owner after ``PAUSE_AFTER`` failures in a row)."""
    def finish(conn: Connection) -> None:
        ok = answer is not None and answer.ok
        conn.execute(sa.insert(LOG), {
            "webhook_id": hook["id"], "job_id": job.id, "event_id": job.payload.get("event_id"),
            "topic": job.payload.get("topic", ""), "attempt": job.attempts, "status": "delivered" if ok else "failed",
            "response_status": answer.status if answer else None, "duration_ms": answer.duration_ms if answer else 0,
            "response_excerpt": answer.excerpt if answer else "", "error": error, "at": clock.now()})
        if ok:
            if hook["failures"]:
                conn.execute(sa.update(HOOKS).where(HOOKS.c.id == hook["id"]).values(failures=0))
            return
        failures = conn.execute(sa.update(HOOKS).where(HOOKS.c.id == hook["id"])
                                .values(failures=HOOKS.c.failures + 1).returning(HOOKS.c.failures,
                                                                                 HOOKS.c.paused_at)).one()
        if failures[0] >= PAUSE_AFTER and failures[1] is None:
            conn.execute(sa.update(HOOKS).where(HOOKS.c.id == hook["id"]).values(paused_at=clock.now()))
            notifications.notify(conn, [hook["owner_id"]], "webhook_paused", notifications.Note(
                notifications.N_("The webhook '%(name)s' was paused after %(count)s failed deliveries in a row: %(error)s"),
                {"name": hook["name"], "count": failures[0], "error": error}))
    return finish
