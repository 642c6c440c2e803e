"""The OpenAPI paths of automation and collaboration (issue 18): webhooks, scenarios,
comments, the activity feed, tasks, notifications, web forms and the incoming hooks."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cardbase.automation.scenario_steps import ACTIONS, TRIGGERS
from cardbase.automation.webhooks import EVENT_TOPICS

from .openapi import NO_CONTENT, READ, SMALL_ID, WRITE, ID_SCHEMA, body, ok_json, path_param, responses

if TYPE_CHECKING:  # pragma: no cover
    from .openapi import _Builder

_ANY: dict[str, Any] = {"type": "object"}
_LIST = {"type": "object", "properties": {"data": {"type": "array", "items": _ANY}}}
_SCHEMAS: dict[str, dict[str, Any]] = {
    "WebhookInput": {"type": "object", "required": ["name", "object", "events", "url"], "properties": {
        "name": {"type": "string", "maxLength": 200}, "kind": {"type": "string", "enum": ["notify", "confirm"]},
        "object": {"type": "string"}, "events": {"type": "array", "items": {"type": "string",
                                                                              "enum": list(EVENT_TOPICS)}},
        "field": {"type": ["string", "null"], "description": "for field_changed"},
        "url": {"type": "string", "format": "uri", "description": "http or https; private and loopback addresses "
                "only when an administrator allows the host"},
        "active": {"type": "boolean"}, "timeout_ms": {"type": "integer", "minimum": 100, "maximum": 10000},
        "on_timeout": {"type": "string", "enum": ["refuse", "allow"]}}},
    "Webhook": {"type": "object", "description": "the answer to a create also holds `secret` (HMAC-SHA256 key: "
                "X-Cardbase-Signature = v1=hex(HMAC(secret, timestamp + '.' + body)), X-Cardbase-Timestamp; "
                "refuse timestamps more than 300 s old)"},
    "Redeliver": {"type": "object", "required": ["delivery"], "properties": {"delivery": {"type": "integer"}}},
    "ScenarioInput": {"type": "object", "required": ["name", "trigger", "actions"], "properties": {
        "name": {"type": "string"}, "object": {"type": ["string", "null"]},
        "trigger": {"type": "object", "properties": {"type": {"type": "string", "enum": list(TRIGGERS)}}},
        "condition": {"type": ["object", "null"], "description": "the filter language"},
        "actions": {"type": "array", "minItems": 1, "items": {"type": "object", "properties": {
            "type": {"type": "string", "enum": list(ACTIONS)}}}},
        "actor": {"type": ["string", "null"], "description": "user name the scenario runs as"},
        "active": {"type": "boolean"}}},
    "CommentInput": {"type": "object", "required": ["body"], "properties": {"body": {"type": "string",
                                                                                      "maxLength": 10000}}},
    "TaskInput": {"type": "object", "required": ["title"], "properties": {
        "title": {"type": "string"}, "object": {"type": "string"}, "record": {"type": "integer"},
        "assignee": {"type": "string"}, "due_at": {"type": "string", "format": "date-time"},
        "remind_at": {"type": "string", "format": "date-time"}, "rrule": {"type": "string",
                                                                          "description": "RFC 5545 RRULE"}}},
    "MarkRead": {"type": "object", "properties": {"ids": {"type": "array", "items": {"type": "integer"}}}},
    "FormInput": {"type": "object", "required": ["slug", "title", "object", "fields"], "properties": {
        "slug": {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]{0,62}$"}, "title": {"type": "string"},
        "object": {"type": "string"}, "fields": {"type": "array", "items": {"type": "string"}},
        "fixed": _ANY, "confirmation": {"type": "string"}, "redirect_url": {"type": "string"},
        "actor": {"type": "string"}, "active": {"type": "boolean"}}},
    "WebhookHosts": {"type": "object", "required": ["hosts"], "properties": {"hosts": {"type": "array", "items": {
        "type": "object", "required": ["host"], "properties": {
            "host": {"type": "string", "description": "a host name, *.domain or an IP address"},
            "allow_private": {"type": "boolean", "description": "may resolve to a private or loopback address"}}}}}},
    "AutomationObject": _ANY, "AutomationList": _LIST,
}


def _crud(b: "_Builder", base: str, tag: str, name: str, input_schema: str, id_name: str) -> None:
    item = f"{base}/{{{id_name}}}"
    pid = [path_param(id_name, f"the {name}'s id", SMALL_ID)]
    b.path(base, tag, get={"summary": f"List {name}s", "operationId": f"list{name.title()}s",
                           "responses": responses({200: ok_json("AutomationList")}, 401)},
           post={"summary": f"Create a {name}", "operationId": f"create{name.title()}",
                 "requestBody": body(input_schema), "responses": responses({201: ok_json("AutomationObject")}, *WRITE)})
    b.path(item, tag, get={"summary": f"One {name}", "operationId": f"get{name.title()}", "parameters": pid,
                           "responses": responses({200: ok_json("AutomationObject")}, *READ)},
           patch={"summary": f"Change a {name}", "operationId": f"update{name.title()}", "parameters": pid,
                  "requestBody": body(input_schema), "responses": responses({200: ok_json("AutomationObject")},
                                                                            *WRITE)},
           delete={"summary": f"Delete a {name}", "operationId": f"delete{name.title()}", "parameters": pid,
                   "responses": responses({204: NO_CONTENT}, *READ)})


def automation_paths(b: "_Builder") -> None:
    for name, schema in _SCHEMAS.items():
        b.spec.components.schema(name, component=schema)
    hooks = b.tag("webhooks", "Webhooks that notify (signed, retried, logged) and that confirm a change")
    _crud(b, "/api/v1/webhooks", hooks, "webhook", "WebhookInput", "webhook_id")
    wid = [path_param("webhook_id", "the webhook's id", SMALL_ID)]
    b.path("/api/v1/webhooks/{webhook_id}/deliveries", hooks, get={
        "summary": "The delivery log, newest first", "operationId": "webhookDeliveries", "parameters": wid,
        "responses": responses({200: ok_json("AutomationList")}, *READ)})
    b.path("/api/v1/webhooks/{webhook_id}/redeliver", hooks, post={
        "summary": "Send a logged delivery again", "operationId": "redeliverWebhook", "parameters": wid,
        "requestBody": body("Redeliver"), "responses": responses({202: ok_json("AutomationObject")}, *WRITE)})
    b.path("/api/v1/webhook-hosts", hooks, get={
        "summary": "The allow list of webhook targets", "operationId": "webhookHosts",
        "responses": responses({200: ok_json("AutomationList")}, 401)},
        put={"summary": "Replace the allow list (administrators)", "operationId": "replaceWebhookHosts",
             "requestBody": body("WebhookHosts"), "responses": responses({200: ok_json("AutomationList")}, *WRITE)})
    flows = b.tag("scenarios", "Scenarios: trigger, conditions, actions, run as a named actor")
    _crud(b, "/api/v1/scenarios", flows, "scenario", "ScenarioInput", "scenario_id")
    b.path("/api/v1/scenarios/{scenario_id}/runs", flows, get={
        "summary": "The run log with each step's result", "operationId": "scenarioRuns",
        "parameters": [path_param("scenario_id", "the scenario's id", SMALL_ID)],
        "responses": responses({200: ok_json("AutomationList")}, *READ)})
    b.path("/api/v1/hooks/{token}", flows, post={
        "summary": "An incoming webhook: starts the scenario with this token", "operationId": "incomingHook",
        "security": [], "parameters": [path_param("token", "the scenario's incoming token", {"type": "string"})],
        "requestBody": body("AutomationObject", required=False),
        "responses": responses({202: ok_json("AutomationObject")}, 400, 404, 413, 415)})
    collab = b.tag("collaboration", "Comments, the activity feed, tasks and notifications")
    readable = [o.api_name for o in b.session.objects_with("read")] if b.session is not None else []
    if readable:
        _record_paths(b, collab, readable)
    b.path("/api/v1/tasks", collab, get={
        "summary": "My tasks (open; ?all=true for done ones too)", "operationId": "myTasks",
        "responses": responses({200: ok_json("AutomationList")}, 400, 401)},
        post={"summary": "Create a task", "operationId": "createTask", "requestBody": body("TaskInput"),
              "responses": responses({201: ok_json("AutomationObject")}, *WRITE)})
    b.path("/api/v1/tasks/{task_id}/complete", collab, post={
        "summary": "Complete a task (a recurring one makes its next occurrence)", "operationId": "completeTask",
        "parameters": [path_param("task_id", "the task's id", ID_SCHEMA)],
        "responses": responses({200: ok_json("AutomationObject")}, *WRITE)})
    b.path("/api/v1/notifications", collab, get={
        "summary": "Your notifications and the unread count", "operationId": "listNotifications",
        "responses": responses({200: ok_json("AutomationObject")}, 400, 401)})
    b.path("/api/v1/notifications/read", collab, post={
        "summary": "Mark notifications as read (no ids: all)", "operationId": "readNotifications",
        "requestBody": body("MarkRead", required=False),
        "responses": responses({200: ok_json("AutomationObject")}, 400, 401, 413, 415, 422)})
    web = b.tag("forms", "Web forms: defined here, filled in at /f/{slug} (public, HTML)")
    _crud(b, "/api/v1/forms", web, "form", "FormInput", "form_id")


def _record_paths(b: "_Builder", collab: str, readable: list[str]) -> None:
    """The paths on one record, per object the caller may read (as the records' own paths are)."""
    for name in readable:
        _one_object(b, collab, name)


def _one_object(b: "_Builder", collab: str, name: str) -> None:
    rec = [path_param("record_id", "the record's id", ID_SCHEMA)]
    base = f"/api/v1/records/{name}/{{record_id}}"
    op = name.title().replace("_", "")
    b.path(f"{base}/comments", collab, get={
        "summary": "A record's comments", "operationId": f"listComments{op}", "parameters": rec,
        "responses": responses({200: ok_json("AutomationList")}, *READ)},
        post={"summary": "Comment (@username notifies a reader)", "operationId": f"addComment{op}", "parameters": rec,
              "requestBody": body("CommentInput"), "responses": responses({201: ok_json("AutomationObject")}, *WRITE)})
    b.path(f"{base}/comments/{{comment_id}}", collab, delete={
        "summary": "Delete a comment (its author or an admin)", "operationId": f"deleteComment{op}",
        "parameters": [*rec, path_param("comment_id", "the comment's id", ID_SCHEMA)],
        "responses": responses({204: NO_CONTENT}, *READ)})
    b.path(f"{base}/activity", collab, get={
        "summary": "History, comments and e-mails of a record, newest first", "operationId": f"recordActivity{op}",
        "parameters": rec, "responses": responses({200: ok_json("AutomationList")}, *READ)})
    b.path(f"{base}/tasks", collab, get={
        "summary": "A record's tasks", "operationId": f"recordTasks{op}", "parameters": rec,
        "responses": responses({200: ok_json("AutomationList")}, *READ)})
