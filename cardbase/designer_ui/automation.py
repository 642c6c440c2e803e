"""Scenarios and webhooks in the configurator (issue 18, points 2-4): one page per object
listing its scenarios and webhooks, the scenario editor (trigger, conditions with the
condition builder, actions filled in as plain inputs -- no JSON to write; a small script
shows only the chosen type's inputs and adds rows, without it ``ACTION_ROWS`` rows show all),
the webhook form, its delivery log with "send again", and each scenario's runs.

Everything is saved through ``cardbase.automation`` in the request's engine session, which
checks the configure right and names every bad input; the page shows those messages next
to the form and keeps what was typed.
"""
from __future__ import annotations

import re
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from cardbase.automation import allow_list, forms, scenarios, webhooks
from cardbase.automation.scenario_steps import ACTIONS, TRIGGERS
from cardbase.automation.webhooks import EVENT_TOPICS
from cardbase.platform.context import engine_session
from cardbase.schema_engine.errors import CardbaseError, ValidationError

from . import bp
from .common import checkbox, configurable_object, require_admin, text
from .support import builder_texts, condition_fields, error_list, operator_labels, parse_json_field

ACTION_ROWS = 5  # rows shown without JavaScript (the script adds as many as wanted)
MAX_ACTIONS = 50
_ROW_TYPE = re.compile(r"a(\d{1,3})_type")


def _action_help() -> dict[str, str]:
    """One line per action type, shown under the type the power user picks."""
    return {"set_fields": _("Sets fields of the record that started the scenario."),
            "create_record": _("Creates a record, e.g. a follow-up linked to this one (name its link field)."),
            "create_task": _("Creates a task on this record for a user (empty: the scenario's actor)."),
            "call_webhook": _("Sends the record as JSON to an address on the webhook allow list."),
            "send_email": _("Sends an e-mail through the worker; {field} fills in a field of the record."),
            "notify": _("Rings the bell of the named users; {field} fills in a field of the record.")}


def _row_indexes() -> list[int]:
    """The action rows posted (a<i>_type), in order: five without JavaScript, any with it."""
    found = sorted({int(m.group(1)) for key in request.form if (m := _ROW_TYPE.fullmatch(key))})
    if len(found) > MAX_ACTIONS:
        raise ValidationError({"actions": _("at most %(n)s actions", n=MAX_ACTIONS)})
    return found


def _lines(value: str) -> dict[str, str]:
    """ "field = value" lines (a value starting with "=" is a formula) -> values."""
    out = {}
    for line in value.splitlines():
        if line.strip():
            name, sep, rest = line.partition("=")
            out[name.strip()] = rest.strip() if sep else ""
    return out


def _action_from_form(i: int) -> dict[str, Any] | None:
    kind = text(f"a{i}_type")
    if not kind:
        return None
    get = lambda name: text(f"a{i}_{name}").strip()  # noqa: E731
    if kind == "set_fields":
        return {"type": kind, "values": _lines(text(f"a{i}_values"))}
    if kind == "create_record":
        spec: dict[str, Any] = {"type": kind, "object": get("object"), "values": _lines(text(f"a{i}_values"))}
        if get("link"):
            spec["link"] = get("link")
        return spec
    if kind == "create_task":
        days = get("days")
        return {"type": kind, "title": get("title"), "assignee": get("assignee") or None,
                "due_in_days": int(days) if days.lstrip("-").isdigit() else None}
    if kind == "call_webhook":
        return {"type": kind, "url": get("url")}
    if kind == "send_email":
        return {"type": kind, "to": get("to"), "subject": get("subject"), "body": text(f"a{i}_body")}
    if kind == "notify":
        return {"type": kind, "users": [u.strip() for u in get("users").split(",") if u.strip()], "text": get("text"),
                "email": checkbox(f"a{i}_email")}
    return {"type": kind}


def _trigger_from_form() -> dict[str, Any]:
    kind = text("trigger_type")
    spec: dict[str, Any] = {"type": kind}
    if kind in ("field_changed", "date_reached"):
        spec["field"] = text("trigger_field")
    if kind == "field_changed" and text("trigger_to").strip():
        spec["to"] = text("trigger_to").strip()
    if kind == "date_reached":
        days = text("trigger_days").strip() or "0"
        spec["days"] = int(days) if days.lstrip("-").isdigit() else days
    if kind == "schedule":
        spec["cron"] = text("trigger_cron").strip()
    return spec


def _action_rows(actions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The saved actions and at least one empty row (up to ``ACTION_ROWS`` rows in all)."""
    rows = []
    for a in actions + [{}] * max(1, ACTION_ROWS - len(actions)):
        values = a.get("values") or {}
        rows.append({**a, "values_text": "\n".join(f"{k} = {v}" for k, v in values.items()),
                     "users_text": ", ".join(a.get("users") or [])})
    return rows


def _editor(obj, scenario: dict[str, Any], errors: list[str], status: int = 200, runs: list | None = None):
    schema = engine_session().schema
    return render_template("designer/automation/scenario.html", obj=obj, scenario=scenario, errors=errors,
                           triggers=list(TRIGGERS), action_types=list(ACTIONS), rows=_action_rows(
                               scenario.get("actions") or []),
                           fields=condition_fields(schema, obj, links=True), ops=operator_labels(),
                           texts=builder_texts(), action_help=_action_help(), objects=[o.api_name for o in schema.objects],
                           condition_text=_condition_text(scenario.get("condition")), runs=runs or []), status


def _condition_text(value: Any) -> str:
    import json
    if value in (None, {}, ""):
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, indent=1)


@bp.route("/objects/<object_name>/automation")
def automation_index(object_name: str):
    _schema, obj = configurable_object(object_name)
    s = engine_session()
    return render_template("designer/automation/index.html", obj=obj,
                           scenarios=[x for x in scenarios.list_all(s) if x["object"] == obj.api_name],
                           hooks=[h for h in webhooks.list_all(s) if h["object"] == obj.api_name],
                           web_forms=[f for f in forms.list_all(s) if f["object"] == obj.api_name])


@bp.route("/objects/<object_name>/scenarios/new", methods=["GET", "POST"])
@bp.route("/objects/<object_name>/scenarios/<int:scenario_id>", methods=["GET", "POST"])
def scenario_edit(object_name: str, scenario_id: int | None = None):
    _schema, obj = configurable_object(object_name)
    s = engine_session()
    current = scenarios.get(s, scenario_id) if scenario_id else {"name": "", "trigger": {"type": "created"},
                                                                 "actions": [], "active": True}
    runs = scenarios.runs(s, scenario_id, 20) if scenario_id else []
    if request.method == "GET":
        return _editor(obj, current, [], runs=runs)
    condition_raw = text("condition")
    spec: dict[str, Any] = {"name": text("name"), "object": obj.api_name, "trigger": _trigger_from_form(),
                            "actions": [], "active": checkbox("active")}
    if text("actor").strip():
        spec["actor"] = text("actor").strip()
    try:
        spec["actions"] = [a for a in (_action_from_form(i) for i in _row_indexes()) if a]
        spec["condition"] = parse_json_field(condition_raw, "condition")
        tx = engine_session(write=True)
        saved = scenarios.update(tx, scenario_id, spec) if scenario_id else scenarios.create(tx, spec)
    except CardbaseError as exc:
        shown = {**current, **spec, "condition": spec.get("condition", condition_raw)}
        return _editor(obj, shown, error_list(exc), 422 if exc.status not in (403, 404) else exc.status, runs)
    flash(_("The scenario %(name)s was saved.", name=saved["name"]), "success")
    return redirect(url_for("designer.scenario_edit", object_name=obj.api_name, scenario_id=saved["id"]))


@bp.post("/objects/<object_name>/scenarios/<int:scenario_id>/delete")
def scenario_delete(object_name: str, scenario_id: int):
    _schema, obj = configurable_object(object_name)
    scenarios.delete(engine_session(write=True), scenario_id)
    flash(_("The scenario was deleted."), "success")
    return redirect(url_for("designer.automation_index", object_name=obj.api_name))


@bp.route("/objects/<object_name>/webhooks/new", methods=["GET", "POST"])
@bp.route("/objects/<object_name>/webhooks/<int:webhook_id>", methods=["GET", "POST"])
def webhook_edit(object_name: str, webhook_id: int | None = None):
    _schema, obj = configurable_object(object_name)
    s = engine_session()
    current = webhooks.to_json(s, webhooks.get(s, webhook_id)) if webhook_id else {
        "name": "", "kind": "notify", "events": ["created"], "url": "https://", "active": True,
        "timeout_ms": 2000, "on_timeout": "refuse", "field": None}
    log = webhooks.deliveries(s, webhook_id, 50) if webhook_id else []
    errors: list[str] = []
    status = 200
    if request.method == "POST":
        spec: dict[str, Any] = {"name": text("name"), "kind": text("kind") or "notify", "object": obj.api_name,
                                "events": request.form.getlist("events"), "url": text("url").strip(),
                                "field": text("field") or None, "active": checkbox("active"),
                                "on_timeout": text("on_timeout") or "refuse"}
        timeout = text("timeout_ms").strip()
        spec["timeout_ms"] = int(timeout) if timeout.isdigit() else timeout
        try:
            tx = engine_session(write=True)
            if webhook_id:
                saved = webhooks.update(tx, webhook_id, spec, own=(request.host_url,))
                flash(_("The webhook %(name)s was saved.", name=saved["name"]), "success")
            else:
                saved = webhooks.create(tx, spec, own=(request.host_url,))
                flash(_("The webhook %(name)s was saved. Its signing secret (shown once): %(secret)s",
                        name=saved["name"], secret=saved["secret"]), "success")
            return redirect(url_for("designer.webhook_edit", object_name=obj.api_name, webhook_id=saved["id"]))
        except CardbaseError as exc:
            errors, status = error_list(exc), (exc.status if exc.status in (403, 404) else 422)
            current = {**current, **spec}
    return render_template("designer/automation/webhook.html", obj=obj, hook=current, errors=errors, log=log,
                           events=list(EVENT_TOPICS), fields=[f.api_name for f in obj.user_fields],
                           webhook_id=webhook_id), status


@bp.post("/objects/<object_name>/webhooks/<int:webhook_id>/redeliver/<int:delivery_id>")
def webhook_redeliver(object_name: str, webhook_id: int, delivery_id: int):
    _schema, obj = configurable_object(object_name)
    try:
        webhooks.redeliver(engine_session(write=True), webhook_id, delivery_id)
        flash(_("The delivery will be sent again."), "success")
    except CardbaseError as exc:
        flash("; ".join(error_list(exc)), "error")
    return redirect(url_for("designer.webhook_edit", object_name=obj.api_name, webhook_id=webhook_id))


@bp.post("/objects/<object_name>/webhooks/<int:webhook_id>/delete")
def webhook_delete(object_name: str, webhook_id: int):
    _schema, obj = configurable_object(object_name)
    webhooks.delete(engine_session(write=True), webhook_id)
    flash(_("The webhook was deleted."), "success")
    return redirect(url_for("designer.automation_index", object_name=obj.api_name))


@bp.route("/webhook-hosts", methods=["GET", "POST"])
def webhook_hosts():
    """The administrator's allow list: one host per line, "private" after it to allow a
    private or loopback address."""
    require_admin("change the webhook allow list")
    errors: list[str] = []
    if request.method == "POST":
        wanted = []
        for line in text("hosts").splitlines():
            parts = line.split()
            if parts:
                wanted.append({"host": parts[0], "allow_private": parts[1:] == ["private"]})
        try:
            s = engine_session(write=True)
            allow_list.replace(s.conn, s.actor, wanted)
            flash(_("The allow list was saved."), "success")
            return redirect(url_for("designer.webhook_hosts"))
        except CardbaseError as exc:
            errors = error_list(exc)
        shown = text("hosts")
    else:
        shown = "\n".join(e["host"] + (" private" if e["allow_private"] else "")
                          for e in allow_list.entries(engine_session().conn))
    return render_template("designer/automation/hosts.html", hosts=shown, errors=errors), 422 if errors else 200


@bp.route("/objects/<object_name>/forms/new", methods=["GET", "POST"])
@bp.route("/objects/<object_name>/forms/<int:form_id>", methods=["GET", "POST"])
def form_edit(object_name: str, form_id: int | None = None):
    """A public web form: the fields it shows (in the order picked), fixed values for
    hidden fields, the confirmation or redirect, and the snippets to embed it."""
    _schema, obj = configurable_object(object_name)
    s = engine_session()
    current = forms.get(s, form_id) if form_id else {"slug": "", "title": "", "fields": [], "fixed": {},
                                                     "confirmation": "", "redirect_url": "", "active": True}
    errors: list[str] = []
    status = 200
    if request.method == "POST":
        order = {name: text(f"order_{name}").strip() for name in request.form.getlist("fields")}
        picked = sorted(order, key=lambda n: (int(order[n]) if order[n].isdigit() else 999, n))
        spec: dict[str, Any] = {"slug": text("slug").strip(), "title": text("title").strip(), "object": obj.api_name,
                                "fields": picked, "fixed": _lines(text("fixed")),
                                "confirmation": text("confirmation"), "redirect_url": text("redirect_url").strip(),
                                "active": checkbox("active")}
        if text("actor").strip():
            spec["actor"] = text("actor").strip()
        try:
            tx = engine_session(write=True)
            saved = forms.update(tx, form_id, spec) if form_id else forms.create(tx, spec)
            flash(_("The form %(title)s was saved.", title=saved["title"]), "success")
            return redirect(url_for("designer.form_edit", object_name=obj.api_name, form_id=saved["id"]))
        except CardbaseError as exc:
            errors, status = error_list(exc), (exc.status if exc.status in (403, 404) else 422)
            current = {**current, **spec}
    fields = [f for f in obj.user_fields if f.ftype.writable]
    public = url_for("public_forms.form", slug=current["slug"], _external=True) if current.get("id") else ""
    return render_template("designer/automation/form.html", obj=obj, form=current, fields=fields, errors=errors,
                           fixed_text="\n".join(f"{k} = {v}" for k, v in (current.get("fixed") or {}).items()),
                           public=public), status
