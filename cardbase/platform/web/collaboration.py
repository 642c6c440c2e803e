"""Collaboration in the browser: the bell (notifications), "My tasks", and the block on a
record's card with its tasks, comments and activity feed (history, comments, e-mails).

Every read and write goes through the request's engine session and the automation
package, so the rights are the record's own. Forms post with CSRF tokens and come back
to the card (a local path only)."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from cardbase.automation import comments, notifications, tasks
from cardbase.schema_engine.errors import CardbaseError

from ..context import current_actor, engine_session
from ..i18n import current_language
from .widgets.dates import iso_from_local

bp = Blueprint("collab", __name__)
FEED_LIMIT = 50


def _card_url(object_name: str, record_id: int) -> str:
    return url_for("cards.card", object_name=object_name, record_id=record_id) + "#cb-activity"


def _back(default: str) -> str:
    target = request.form.get("next", "")
    return target if target.startswith("/") and not target.startswith("//") else default


def _problem(exc: CardbaseError) -> str:
    errors = getattr(exc, "errors", None)
    if errors:
        return "; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items())
    return exc.message


def card_activity(obj: Any, record: Any) -> dict[str, Any]:
    """What the card's block shows (a Jinja global): tasks, and the feed, newest first."""
    s = engine_session()
    feed = comments.activity(s, obj, record["id"], read=record)[:FEED_LIMIT]
    return {"tasks": tasks.for_record(s, obj, record["id"], read=record), "feed": _labels_in(s.object(obj), feed)}


def _labels_in(obj: Any, feed: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The feed's changed fields named in the reader's language, as the card's history
    names them (the history keeps the label the field had when it was written)."""
    language = current_language()
    for item in feed:
        if item["kind"] == "change":
            item["changes"] = [{**change, "label": field.label_in(language)}
                               if (field := obj.fields_by_name.get(change.get("field") or "")) is not None
                               else change for change in item["changes"]]
    return feed


def bell_unread() -> int:
    """The unread count of the signed-in user's bell (a Jinja global; one small query)."""
    if not current_user.is_authenticated:
        return 0
    return notifications.unread_count(engine_session().conn, current_actor().user_id)


@bp.post("/o/<object_name>/<int:record_id>/comments")
def add_comment(object_name: str, record_id: int):
    try:
        comments.add(engine_session(write=True), object_name, record_id, request.form.get("body", ""))
        flash(_("Comment added."), "success")
    except CardbaseError as exc:
        flash(_("The comment was not saved: %(problem)s", problem=_problem(exc)), "error")
    return redirect(_card_url(object_name, record_id))


@bp.post("/o/<object_name>/<int:record_id>/tasks")
def add_task(object_name: str, record_id: int):
    spec = {"title": request.form.get("title", ""), "object": object_name, "record": record_id,
            "assignee": request.form.get("assignee") or None, "due_at": iso_from_local("datetime", request.form.get("due_at")),
            "remind_at": iso_from_local("datetime", request.form.get("remind_at")), "rrule": request.form.get("rrule") or None,
            "email_reminder": request.form.get("email_reminder") == "1"}
    try:
        tasks.create(engine_session(write=True), spec)
        flash(_("Task added."), "success")
    except CardbaseError as exc:
        flash(_("The task was not saved: %(problem)s", problem=_problem(exc)), "error")
    return redirect(_card_url(object_name, record_id))


@bp.post("/tasks/<int:task_id>/complete")
def complete_task(task_id: int):
    try:
        done = tasks.complete(engine_session(write=True), task_id)
        flash(_("Task done.") + (" " + _("The next one is due %(when)s.", when=done["next"]["due_at"])
                                if done.get("next") else ""), "success")
    except CardbaseError as exc:
        flash(_("The task was not changed: %(problem)s", problem=_problem(exc)), "error")
    return redirect(_back(url_for("collab.my_tasks")))


@bp.get("/tasks")
def my_tasks():
    return render_template("web/automation/my_tasks.html", tasks=tasks.my_tasks(engine_session()))


@bp.get("/notifications")
def notification_list():
    s = engine_session()
    return render_template("web/automation/notifications.html",
                           notes=notifications.list_for(s.conn, current_actor().user_id, limit=100))


@bp.post("/notifications/read")
def read_notifications():
    ids = request.form.getlist("id", type=int) or None
    if ids is None and request.form.get("all") != "1":
        abort(400)
    notifications.mark_read(engine_session(write=True).conn, current_actor().user_id, ids)
    return redirect(url_for("collab.notification_list"))
