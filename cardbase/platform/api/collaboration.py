"""Comments, the activity feed, tasks and notifications:
``/api/v1/records/{object}/{id}/comments`` (+ ``/{comment_id}``), ``/api/v1/records/{object}/{id}/activity``,
``/api/v1/records/{object}/{id}/tasks``, ``/api/v1/tasks`` (my tasks; + ``/{id}/complete``) and
``/api/v1/notifications`` (+ ``/read``). Rights follow the record, in the request's engine session."""
from __future__ import annotations

from typing import Any

from cardbase.automation import comments, notifications, tasks

from ..context import engine_session
from .auth import api_actor
from .blueprint import bp
from .http import arg_bool, json_object, json_response, no_content, record_id, reject_unknown, require_keys


def _feed_item(item: dict[str, Any]) -> dict[str, Any]:
    return {**item, "at": item["at"].isoformat() + "Z"}


@bp.get("/v1/records/<object_name>/<rid>/comments")
def list_comments(object_name: str, rid: str):
    return json_response({"data": comments.list_for(engine_session(), object_name, record_id(rid))})


@bp.post("/v1/records/<object_name>/<rid>/comments")
def add_comment(object_name: str, rid: str):
    body = json_object()
    reject_unknown(body, {"body"}, "a comment")
    require_keys(body, "body")
    return json_response(comments.add(engine_session(write=True), object_name, record_id(rid), body["body"]), 201)


@bp.delete("/v1/records/<object_name>/<rid>/comments/<comment_id>")
def delete_comment(object_name: str, rid: str, comment_id: str):
    comments.delete(engine_session(write=True), object_name, record_id(rid), record_id(comment_id, "comment_id"))
    return no_content()


@bp.get("/v1/records/<object_name>/<rid>/activity")
def record_activity(object_name: str, rid: str):
    feed = comments.activity(engine_session(), object_name, record_id(rid))
    return json_response({"data": [_feed_item(i) for i in feed]})


@bp.get("/v1/records/<object_name>/<rid>/tasks")
def record_tasks(object_name: str, rid: str):
    return json_response({"data": tasks.for_record(engine_session(), object_name, record_id(rid))})


@bp.get("/v1/tasks")
def my_tasks():
    return json_response({"data": tasks.my_tasks(engine_session(), open_only=not arg_bool("all"))})


@bp.post("/v1/tasks")
def create_task():
    return json_response(tasks.create(engine_session(write=True), json_object()), 201)


@bp.post("/v1/tasks/<task_id>/complete")
def complete_task(task_id: str):
    return json_response(tasks.complete(engine_session(write=True), record_id(task_id, "task_id")))


@bp.get("/v1/notifications")
def list_notifications():
    s = engine_session()
    uid = api_actor().user_id
    return json_response({"unread": notifications.unread_count(s.conn, uid),
                          "data": notifications.list_for(s.conn, uid, unread=arg_bool("unread"))})


@bp.post("/v1/notifications/read")
def read_notifications():
    body = json_object(required=False) or {}
    reject_unknown(body, {"ids"}, "a mark-as-read request")
    s = engine_session(write=True)
    changed = notifications.mark_read(s.conn, api_actor().user_id, body.get("ids"))
    return json_response({"marked": changed, "unread": notifications.unread_count(s.conn, api_actor().user_id)})
