"""Webhooks that confirm: called by the change pipeline's hook step, before the change commits.

The receiver gets the change (the records before and after, as the webhook's owner may
read them) and answers JSON within the webhook's ``timeout_ms``:

    {"allow": true}                                     the change goes on
    {"allow": false, "message": "credit limit exceeded"}  refused: the user sees the message
    {"allow": true, "set": {"stage": "review"}}         goes on, with those fields set

Fields are set through the pipeline as the webhook's owner (so only fields the owner may
write, validated like any edit, in the history as the owner's change). No valid answer in
time -- a timeout, an error, a non-2xx status or a body that is not such JSON -- follows
the webhook's ``on_timeout``: "refuse" or "allow". The hook runs inside the write
transaction, so a refusal leaves nothing behind.
"""
from __future__ import annotations

import contextvars
import json
from typing import Any, Mapping

import sqlalchemy as sa
from sqlalchemy import Connection

from cardbase.schema_engine.actor import Actor
from cardbase.schema_engine.errors import CardbaseError, ValidationError
from cardbase.schema_engine.snapshot import ObjectInfo, Schema
from cardbase.schema_engine.store.session import Session

from . import clock, http_out, signing
from .actors import actor_of
from .webhooks import HOOKS, event_body

ACTIONS = {"create": "created", "update": "updated", "delete": "deleted", "restore": "restored"}
MAX_MESSAGE = 500
_applying = contextvars.ContextVar("cardbase_confirm_applying", default=False)


class ConfirmHook:
    """Registered on a RecordStore's hooks (``install``); one call per confirming webhook
    of the changed object and event."""

    def __init__(self, store: Any, own_urls: tuple[str, ...] = ()):
        self.store, self.own_urls = store, own_urls

    def __call__(self, conn: Connection, schema: Schema, obj: ObjectInfo, ids: list[int], action: str,
                 actor: Actor) -> None:
        event = ACTIONS.get(action)
        if event is None or _applying.get():
            return
        hooks = conn.execute(sa.select(HOOKS).where(HOOKS.c.kind == "confirm", HOOKS.c.object_id == obj.id,
                                                    HOOKS.c.active.is_(True))).mappings().all()
        for hook in hooks:
            if event in hook["events"] or (event == "updated" and "field_changed" in hook["events"]):
                self._confirm(conn, obj, ids, event, actor, hook)

    def _confirm(self, conn: Connection, obj: ObjectInfo, ids: list[int], event: str, actor: Actor,
                 hook: Mapping[Any, Any]) -> None:
        topic = f"record.{event}"
        records = []
        versions = _versions(conn, obj, ids)
        for rid in ids:
            body = event_body(self.store, conn, hook["owner_id"], {
                "id": None, "topic": topic, "object_id": obj.id, "record_id": rid, "created_at": clock.now(),
                "payload": {"version": versions.get(rid)}})
            if body is not None:
                records.append({k: body[k] for k in ("id", "before", "after", "changed")})
        if event == "updated" and "updated" not in hook["events"]:  # field_changed only
            records = [r for r in records if hook["field"] in r["changed"]]
        if not records:
            return
        payload = json.dumps({"event": topic, "object": obj.api_name, "actor": actor.username, "records": records},
                             separators=(",", ":"), default=str).encode()
        answer = self._ask(conn, hook, topic, payload)
        if answer is None:
            if hook["on_timeout"] == "allow":
                return
            raise ValidationError({"record": f"the change could not be confirmed by '{hook['name']}' "
                                             "(no valid answer in time), so it was not saved"})
        if answer.get("allow") is not True:
            message = answer.get("message")
            text = message[:MAX_MESSAGE] if isinstance(message, str) and message.strip() else "no reason given"
            raise ValidationError({"record": f"refused by '{hook['name']}': {text}"})
        values = answer.get("set")
        if values:
            self._set(conn, obj, {r["id"]: versions.get(r["id"]) for r in records}, hook, values)

    def _ask(self, conn: Connection, hook: Mapping[Any, Any], topic: str, payload: bytes) -> dict[str, Any] | None:
        try:
            target = http_out.check_target(conn, hook["url"], own=self.own_urls)
        except ValidationError:
            return None
        headers = signing.headers(hook["secret"], payload, event=topic, delivery="confirm")
        reply = http_out.post(target, payload, headers, timeout=hook["timeout_ms"] / 1000, max_bytes=65536)
        if not reply.ok or reply.truncated:
            return None
        try:
            answer = json.loads(reply.excerpt)
        except ValueError:
            return None
        if not isinstance(answer, dict) or not isinstance(answer.get("allow"), bool):
            return None
        if "set" in answer and answer["set"] is not None and not isinstance(answer["set"], dict):
            return None
        return answer

    def _set(self, conn: Connection, obj: ObjectInfo, ids: dict[int, int | None], hook: Mapping[Any, Any],
             values: Mapping[Any, Any]) -> None:
        owner = actor_of(conn, hook["owner_id"], "owner")
        tx = Session(self.store, conn, owner, write=True)
        token = _applying.set(True)
        try:
            for rid, version in ids.items():
                try:
                    tx.update(obj, rid, values, version=version, fetch=False)
                except CardbaseError as exc:
                    raise ValidationError({"record": f"'{hook['name']}' set fields that cannot be saved: "
                                                     f"{exc.message}"}) from None
        finally:
            _applying.reset(token)


def _versions(conn: Connection, obj: ObjectInfo, ids: list[int]) -> dict[int, int]:
    from cardbase.schema_engine.meta_models import HistoryEntry

    h = HistoryEntry.__table__
    rows = conn.execute(sa.select(h.c.record_id, sa.func.max(h.c.version)).where(
        h.c.object_id == obj.id, h.c.record_id.in_(ids)).group_by(h.c.record_id)).all()
    return {r[0]: r[1] for r in rows}


def install(store: Any, own_urls: tuple[str, ...] = ()) -> ConfirmHook:
    """Register the confirming webhooks on ``store`` (the composition root calls this once)."""
    hook = ConfirmHook(store, own_urls)
    store.hooks.register(hook)
    return hook
