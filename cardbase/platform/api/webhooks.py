"""Webhooks: ``/api/v1/webhooks`` (+ ``/{id}``, ``/{id}/deliveries``, ``/{id}/redeliver``).

Everything goes through ``cardbase.automation.webhooks`` in the request's engine session:
making a webhook needs the configure right on its object; the caller sees their own
webhooks (admins: all). The answer to a create holds the signing secret."""
from __future__ import annotations

from flask import request, url_for

from cardbase.automation import allow_list, webhooks

from ..context import engine_session
from .blueprint import bp
from .http import small_id, arg_int, json_object, json_response, no_content, require_keys


def _own() -> tuple[str, ...]:
    """cardbase's own address as this request reached it: never a webhook target."""
    return (request.host_url,)


@bp.get("/v1/webhooks")
def list_webhooks():
    return json_response({"data": webhooks.list_all(engine_session())})


@bp.post("/v1/webhooks")
def create_webhook():
    body = json_object()
    require_keys(body, "name", "object", "events", "url")
    made = webhooks.create(engine_session(write=True), body, own=_own())
    return json_response(made, 201, {"Location": url_for("api.get_webhook", webhook_id=made["id"])})


@bp.get("/v1/webhooks/<webhook_id>")
def get_webhook(webhook_id: str):
    s = engine_session()
    return json_response(webhooks.to_json(s, webhooks.get(s, small_id(webhook_id, "webhook_id"))))


@bp.patch("/v1/webhooks/<webhook_id>")
def update_webhook(webhook_id: str):
    wid = small_id(webhook_id, "webhook_id")
    return json_response(webhooks.update(engine_session(write=True), wid, json_object(), own=_own()))


@bp.delete("/v1/webhooks/<webhook_id>")
def delete_webhook(webhook_id: str):
    webhooks.delete(engine_session(write=True), small_id(webhook_id, "webhook_id"))
    return no_content()


@bp.get("/v1/webhooks/<webhook_id>/deliveries")
def webhook_deliveries(webhook_id: str):
    limit = arg_int("limit", 500) or 50
    return json_response({"data": webhooks.deliveries(engine_session(), small_id(webhook_id, "webhook_id"), limit)})


@bp.post("/v1/webhooks/<webhook_id>/redeliver")
def redeliver_webhook(webhook_id: str):
    body = json_object()
    require_keys(body, "delivery")
    job = webhooks.redeliver(engine_session(write=True), small_id(webhook_id, "webhook_id"), body["delivery"])
    return json_response({"queued": job}, 202)


@bp.get("/v1/webhook-hosts")
def webhook_hosts():
    """The allow list of webhook targets (everyone who may make webhooks may read it)."""
    return json_response({"data": allow_list.entries(engine_session().conn)})


@bp.put("/v1/webhook-hosts")
def replace_webhook_hosts():
    body = json_object()
    require_keys(body, "hosts")
    s = engine_session(write=True)
    return json_response({"data": allow_list.replace(s.conn, s.actor, body["hosts"])})
