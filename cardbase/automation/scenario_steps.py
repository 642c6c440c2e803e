"""The triggers and actions of scenarios: one small class each, in two registries.

A trigger says which outbox events (or which moments) start a scenario; an action is one
step of its run. Each checks its settings when the scenario is saved (naming the setting
and the problem) and runs through the scenario actor's engine session, so the actor's
rights hold for every read and write.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, ClassVar, Mapping

from croniter import croniter  # type: ignore[import-untyped, unused-ignore]

from cardbase.formula import FormulaError, compile_formula
from cardbase.schema_engine.computed.resolver import SchemaResolver
from cardbase.schema_engine.errors import ValidationError
from cardbase.schema_engine.snapshot import ObjectInfo
from cardbase.schema_engine.store.session import Session

from . import clock, email_out, http_out, jobs, notifications, tasks, templates
from .actors import user_id_by_name
from .notifications import N_, Note


def _need(spec: Mapping[str, Any], key: str, where: str) -> Any:
    if spec.get(key) in (None, ""):
        raise ValidationError({where: f"needs '{key}'"})
    return spec[key]


def _field(obj: ObjectInfo | None, name: object, where: str) -> Any:
    if obj is None:
        raise ValidationError({where: "needs the scenario's object"})
    found = obj.fields_by_name.get(name) if isinstance(name, str) else None
    if found is None:
        raise ValidationError({where: f"'{obj.api_name}' has no field {name!r}"})
    return found


# ---- triggers ------------------------------------------------------------------------------------
class Trigger:
    type: ClassVar[str]
    topic: ClassVar[str | None] = None  # the outbox topic it listens to (None: periodic)

    def check(self, spec: Mapping[str, Any], obj: ObjectInfo | None) -> dict[str, Any]:
        if obj is None:
            raise ValidationError({"trigger": f"'{self.type}' needs the scenario's object"})
        return {"type": self.type}

    def matches(self, spec: Mapping[str, Any], event: Mapping[str, Any], record: Mapping[str, Any] | None) -> bool:
        return event["topic"] == self.topic


class Created(Trigger):
    type, topic = "created", "record.created"


class Updated(Trigger):
    type, topic = "updated", "record.updated"


class Deleted(Trigger):
    type, topic = "deleted", "record.deleted"


class FieldChanged(Trigger):
    """An update that changed ``field`` -- to ``to`` when given ("stage changed to won")."""

    type, topic = "field_changed", "record.updated"

    def check(self, spec, obj):
        super().check(spec, obj)
        f = _field(obj, spec.get("field"), "trigger.field")
        out = {"type": self.type, "field": f.api_name}
        if "to" in spec:
            out["to"] = spec["to"]
        return out

    def matches(self, spec, event, record):
        """``record["__changes"]``: the event's own changes (from its history entry), so a
        later change of the field does not count as this one."""
        if event["topic"] != self.topic or spec["field"] not in (event["payload"] or {}).get("fields", ()):
            return False
        if "to" not in spec:
            return True
        change = (record or {}).get("__changes", {}).get(spec["field"])
        return change is not None and change[1] == spec["to"]


class DateReached(Trigger):
    """A date field reached, shifted by ``days`` (-3: three days before the close date)."""

    type = "date_reached"

    def check(self, spec, obj):
        super().check(spec, obj)
        f = _field(obj, spec.get("field"), "trigger.field")
        if f.type not in ("date", "datetime"):
            raise ValidationError({"trigger.field": f"'{f.api_name}' is a {f.type} field, not a date"})
        days = spec.get("days", 0)
        if isinstance(days, bool) or not isinstance(days, int) or abs(days) > 3650:
            raise ValidationError({"trigger.days": "must be a whole number of days (negative: before the date)"})
        return {"type": self.type, "field": f.api_name, "days": days}

    def matches(self, spec, event, record):
        return False


class Schedule(Trigger):
    """A cron schedule ("0 8 * * MON"), in UTC."""

    type = "schedule"

    def check(self, spec, obj):
        cron = spec.get("cron")
        if not isinstance(cron, str) or not croniter.is_valid(cron):
            raise ValidationError({"trigger.cron": f"{cron!r} is not a cron schedule like '0 8 * * MON'"})
        return {"type": self.type, "cron": cron}

    def matches(self, spec, event, record):
        return False


class Incoming(Trigger):
    """A request to the scenario's incoming webhook URL (its token is the secret)."""

    type = "webhook"

    def check(self, spec, obj):
        import secrets
        return {"type": self.type, "token": spec.get("token") or secrets.token_urlsafe(24)}

    def matches(self, spec, event, record):
        return False


def cron_next(cron: str, after: datetime) -> datetime:
    """The first time of the schedule after ``after`` (the one module that imports croniter)."""
    return croniter(cron, after).get_next(datetime)


TRIGGERS: dict[str, Trigger] = {t.type: t for t in (Created(), Updated(), Deleted(), FieldChanged(), DateReached(),
                                                    Schedule(), Incoming())}


def _plain(value: Any) -> Any:
    value = getattr(value, "id", value)  # a link's LinkRef
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


# ---- actions -------------------------------------------------------------------------------------
@dataclass
class Run:
    """What the steps of one run share."""

    tx: Session
    obj: ObjectInfo | None
    record: dict[str, Any] | None
    scenario: Mapping[str, Any]
    payload: dict[str, Any] = field(default_factory=dict)


class Action:
    type: ClassVar[str]

    def check(self, tx: Session, spec: Mapping[str, Any], obj: ObjectInfo | None, where: str) -> dict[str, Any]:
        raise NotImplementedError

    def run(self, run: Run, spec: Mapping[str, Any]) -> str | Note:
        """Do the step; a short text for the run log."""
        raise NotImplementedError


def _values(tx: Session, target: ObjectInfo, values: object, source: ObjectInfo | None, where: str) -> dict:
    """Field values for ``target``: constants, or "=formula" over the triggering record."""
    if not isinstance(values, Mapping) or not values:
        raise ValidationError({where: "must be an object of field names and values"})
    out = {}
    for name, value in values.items():
        f = _field(target, name, where)
        if not tx.access.field_writable(target, f):
            raise ValidationError({where: f"the scenario's actor may not write '{target.api_name}.{name}'"})
        if isinstance(value, str) and value.startswith("="):
            if source is None:
                raise ValidationError({where: "formula values need the scenario's object"})
            try:
                compiled = compile_formula(value[1:], SchemaResolver(tx.schema, source))
            except FormulaError as exc:
                raise ValidationError({where: f"the formula for '{name}' is refused: {exc}"}) from None
            if any("." in key for key in compiled.references):
                raise ValidationError({where: f"the formula for '{name}' may use only the record's own fields"})
        out[f.api_name] = value
    return out


def _evaluate(run: Run, values: Mapping[str, Any]) -> dict[str, Any]:
    out = {}
    for name, value in values.items():
        if isinstance(value, str) and value.startswith("=") and run.obj is not None:
            compiled = compile_formula(value[1:], SchemaResolver(run.tx.schema, run.obj))
            inputs = {key: (run.record or {}).get(run.tx.schema.field_by_id(int(key)).api_name)
                      for key in compiled.references}
            result = compiled.evaluate({k: _plain(v) if not isinstance(v, Decimal) else v for k, v in inputs.items()},
                                       now=clock.now())
            value = _plain(result) if isinstance(result, Decimal) else result
            value = value.isoformat() if hasattr(value, "isoformat") else value
        out[name] = value
    return out


class SetFields(Action):
    type = "set_fields"

    def check(self, tx, spec, obj, where):
        if obj is None:
            raise ValidationError({where: "needs the scenario's object"})
        return {"type": self.type, "values": _values(tx, obj, spec.get("values"), obj, f"{where}.values")}

    def run(self, run, spec):
        assert run.obj is not None and run.record is not None
        values = _evaluate(run, spec["values"])
        run.tx.update(run.obj, run.record["id"], values, version=run.record["version"], fetch=False)
        run.record = run.tx.fetch(run.obj, [run.record["id"]]).get(run.record["id"]) or run.record
        return Note(N_("set %(values)s"), {"values": ", ".join(f"{k} = {v!r}" for k, v in values.items())})


class CreateRecord(Action):
    """A new record of any object; ``link`` names its link field to point at the triggering record."""

    type = "create_record"

    def check(self, tx, spec, obj, where):
        name = spec.get("object")
        if not isinstance(name, str) or not tx.schema.has_object(name):
            raise ValidationError({f"{where}.object": f"there is no object {name!r}"})
        target = tx.schema.object(name)
        out = {"type": self.type, "object": name, "values": _values(tx, target, spec.get("values"), obj,
                                                                   f"{where}.values")}
        if spec.get("link"):
            link = _field(target, spec["link"], f"{where}.link")
            if link.type != "link" or obj is None or tx.schema.link_target(link).id != obj.id:
                raise ValidationError({f"{where}.link": f"'{spec['link']}' is not a link to the scenario's object"})
            out["link"] = link.api_name
        return out

    def run(self, run, spec):
        values = _evaluate(run, spec["values"])
        if spec.get("link") and run.record is not None:
            values[spec["link"]] = run.record["id"]
        made = run.tx.create(spec["object"], values)
        return Note(N_("created %(object)s %(record)s"), {"object": spec["object"], "record": made.get("code") or made["id"]})


class CreateTask(Action):
    type = "create_task"

    def check(self, tx, spec, obj, where):
        title = templates.check(spec.get("title"), obj, f"{where}.title")
        out: dict[str, Any] = {"type": self.type, "title": title}
        if spec.get("assignee") is not None:
            user_id_by_name(tx.conn, spec["assignee"], f"{where}.assignee")
            out["assignee"] = spec["assignee"]
        days = spec.get("due_in_days")
        if days is not None and (isinstance(days, bool) or not isinstance(days, int) or abs(days) > 3650):
            raise ValidationError({f"{where}.due_in_days": "must be a whole number of days"})
        out["due_in_days"] = days
        return out

    def run(self, run, spec):
        task = {"title": templates.render(spec["title"], run.obj, run.record)[:300], "assignee": spec.get("assignee")}
        if run.record is not None and run.obj is not None:
            task.update(object=run.obj.api_name, record=run.record["id"])
        if spec.get("due_in_days") is not None:
            task["due_at"] = (clock.now() + timedelta(days=spec["due_in_days"])).isoformat()
        made = tasks.create(run.tx, task)
        return Note(N_("created task %(id)s"), {"id": made["id"]})


class CallWebhook(Action):
    type = "call_webhook"

    def check(self, tx, spec, obj, where):
        url = _need(spec, "url", where)
        http_out.check_target(tx.conn, url, field=f"{where}.url")
        return {"type": self.type, "url": url}

    def run(self, run, spec):
        import json
        body = {"scenario": run.scenario["name"], "object": run.obj.api_name if run.obj else None,
                "record": run.tx.to_json(run.obj, run.record) if run.obj and run.record else None,
                "payload": run.payload or None}
        jobs.enqueue(run.tx.conn, "http_call", {"url": spec["url"], "body": json.dumps(body, default=str)})
        return Note(N_("queued a call to %(url)s"), {"url": spec["url"]})


class SendEmail(Action):
    """An e-mail from a template; ``attach``: the name of a Word template of the object,
    filled for the record and attached ("on a new order, generate the invoice and e-mail it")."""

    type = "send_email"

    def check(self, tx, spec, obj, where):
        to = templates.check(spec.get("to"), obj, f"{where}.to")
        if not templates.placeholders(to, f"{where}.to"):
            email_out.check_address(to, f"{where}.to")
        out = {"type": self.type, "to": to, "subject": templates.check(spec.get("subject"), obj, f"{where}.subject"),
               "body": templates.check(spec.get("body"), obj, f"{where}.body")}
        if spec.get("attach"):
            _template_id(tx, obj, spec["attach"], f"{where}.attach")
            out["attach"] = spec["attach"]
        return out

    def run(self, run, spec):
        files = []
        if spec.get("attach") and run.obj is not None and run.record is not None:
            from cardbase.doc_templates.render import DocumentRenderer
            from cardbase.doc_templates.storage import template_file

            tid = _template_id(run.tx, run.obj, spec["attach"], "attach")
            code, content = DocumentRenderer(run.tx, template_file(run.tx, run.obj, tid)).render_named(
                run.record["id"])
            files.append((f"{spec['attach']} {code}.docx", content))
        email_out.from_template(run.tx.conn, run.obj, run.record, spec["to"], spec["subject"], spec["body"],
                                sender_id=run.tx.actor.user_id, attachments=files)
        to = templates.render(spec["to"], run.obj, run.record)
        if files:
            return Note(N_("queued an e-mail to %(to)s with %(file)s"), {"to": to, "file": files[0][0]})
        return Note(N_("queued an e-mail to %(to)s"), {"to": to})


def _template_id(tx: Session, obj: ObjectInfo | None, name: object, where: str) -> int:
    from cardbase.doc_templates.storage import usable_templates

    if obj is None:
        raise ValidationError({where: "a document needs the scenario's object"})
    found = [t["id"] for t in usable_templates(tx, obj) if t["name"] == name]
    if not found:
        raise ValidationError({where: f"'{obj.api_name}' has no Word template {name!r} the actor may fill"})
    return found[0]


class Notify(Action):
    type = "notify"

    def check(self, tx, spec, obj, where):
        users = spec.get("users")
        if not isinstance(users, list) or not users:
            raise ValidationError({f"{where}.users": "must be a list of user names"})
        for name in users:
            user_id_by_name(tx.conn, name, f"{where}.users")
        if not isinstance(spec.get("email", False), bool):
            raise ValidationError({f"{where}.email": "must be true or false"})
        return {"type": self.type, "users": users, "text": templates.check(spec.get("text"), obj, f"{where}.text"),
                "email": spec.get("email", False)}

    def run(self, run, spec):
        ids = [user_id_by_name(run.tx.conn, name) for name in spec["users"]]
        n = notifications.notify(run.tx.conn, ids, "scenario", templates.render(spec["text"], run.obj, run.record),
                                 object_id=run.obj.id if run.obj else None,
                                 record_id=run.record["id"] if run.record else None, email=spec.get("email", False))
        if spec.get("email"):
            return Note(N_("notified %(n)s users (and by e-mail)"), {"n": n})
        return Note(N_("notified %(n)s users"), {"n": n})


ACTIONS: dict[str, Action] = {a.type: a for a in (SetFields(), CreateRecord(), CreateTask(), CallWebhook(),
                                                 SendEmail(), Notify())}


class CallUrl:
    """The job handler of ``call_webhook`` steps."""

    kind = "http_call"
    parallel = True

    def run(self, services: Any, job: jobs.ClaimedJob) -> None:
        with services.store.db.read() as conn:
            try:
                target = http_out.check_target(conn, job.payload["url"], own=services.own_urls)
            except ValidationError as exc:
                raise jobs.JobFailed(exc.message, retry=False) from None
        answer = http_out.post(target, job.payload["body"].encode(), {}, timeout=services.webhook_timeout)
        if not answer.ok:
            raise jobs.JobFailed(answer.error or f"the receiver answered {answer.status}")
