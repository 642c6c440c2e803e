"""Scenarios: trigger -> conditions (the JSON filter language) -> actions, run by the worker.

A scenario runs as a named actor through that actor's engine session, so it can do only
what the actor may do (a step writing a field the actor may not write fails the run, and
nothing of that run is kept). Only an administrator may name someone else as the actor.
Every execution is logged with each step's result (``cb_scenario_run``).

Loop protection: a scenario whose actions change the record that triggered it triggers
itself again. A scenario runs at most ``LOOP_LIMIT`` times on the same record within
``LOOP_WINDOW``; the next run is logged as "stopped" and its actor is notified, and the
chain ends there.
"""
from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Mapping

import sqlalchemy as sa
from sqlalchemy import Connection

from cardbase.schema_engine import i18n
from cardbase.schema_engine.automation_models import Scenario, ScenarioRun
from cardbase.schema_engine.errors import CardbaseError, Forbidden, NotFound, ValidationError
from cardbase.schema_engine.query.model import ListQuery
from cardbase.schema_engine.store.session import Session

from . import clock, jobs, notifications
from .actors import actor_of, user_id_by_name
from .notifications import N_, Note
from .scenario_steps import ACTIONS, TRIGGERS, Run, cron_next
from .webhooks import changes_of

if TYPE_CHECKING:  # pragma: no cover
    from .worker import Services

SCENARIOS = Scenario.__table__
RUNS = ScenarioRun.__table__
JOB_KIND = "scenario"
LOOP_LIMIT = 5
LOOP_WINDOW = timedelta(minutes=1)
MAX_ACTIONS = 20
SETTINGS = {"name", "object", "trigger", "condition", "actions", "actor", "active"}


# ---- definitions -------------------------------------------------------------------------------
def _check(tx: Session, spec: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(spec, Mapping):
        raise ValidationError({"scenario": "must be a JSON object"})
    unknown = set(spec) - SETTINGS
    if unknown:
        raise ValidationError({k: "is not a scenario setting" for k in sorted(unknown)})
    name = spec.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 200:
        raise ValidationError({"name": "is required: a text of at most 200 characters"})
    obj = None
    if spec.get("object") is not None:
        if not isinstance(spec["object"], str) or not tx.schema.has_object(spec["object"]):
            raise ValidationError({"object": f"there is no object {spec['object']!r}"})
        obj = tx.require(spec["object"], "configure")
    elif not tx.actor.is_admin:
        raise Forbidden("only an administrator may make a scenario without an object")
    actor_id = tx.actor.user_id if spec.get("actor") is None else user_id_by_name(tx.conn, spec["actor"])
    if actor_id != tx.actor.user_id and not tx.actor.is_admin:
        raise ValidationError({"actor": "only an administrator may let a scenario act as someone else"})
    trigger = spec.get("trigger")
    kind = trigger.get("type") if isinstance(trigger, Mapping) else None
    if kind not in TRIGGERS:
        raise ValidationError({"trigger": f"must be an object whose type is one of {', '.join(TRIGGERS)}"})
    trigger_spec = TRIGGERS[kind].check(trigger, obj)  # type: ignore[arg-type]
    # Steps are checked with the actor's rights: a step the actor could not do is refused now.
    as_actor = Session(tx.store, tx.conn, actor_of(tx.conn, actor_id), write=False)
    condition = spec.get("condition")
    if obj is not None and not as_actor.can(obj, "read"):
        raise ValidationError({"actor": f"'{as_actor.actor.username}' may not read {obj.label_plural}: "
                                        "a scenario runs with its actor's rights"})
    if condition is not None:
        if obj is None:
            raise ValidationError({"condition": "needs the scenario's object"})
        try:
            as_actor.count(obj, condition)
        except ValidationError as exc:
            raise ValidationError({"condition": exc.message}) from None
    actions = spec.get("actions")
    if not isinstance(actions, list) or not actions or len(actions) > MAX_ACTIONS:
        raise ValidationError({"actions": f"must be a list of 1 to {MAX_ACTIONS} steps"})
    checked = []
    for i, step in enumerate(actions):
        where = f"actions[{i}]"
        kind = step.get("type") if isinstance(step, Mapping) else None
        if kind not in ACTIONS:
            raise ValidationError({where: f"must be an object whose type is one of {', '.join(ACTIONS)}"})
        checked.append(ACTIONS[kind].check(as_actor, step, obj, where))
    active = spec.get("active", True)
    if not isinstance(active, bool):
        raise ValidationError({"active": "must be true or false"})
    return {"name": name.strip(), "object_id": obj.id if obj else None, "trigger": trigger_spec,
            "condition": condition, "actions": checked, "actor_id": actor_id, "active": active}


def _json(tx: Session, row: Mapping[Any, Any]) -> dict[str, Any]:
    obj = tx.schema.object(row["object_id"]) if row["object_id"] and tx.schema.has_object(row["object_id"]) else None
    return {"id": row["id"], "name": row["name"], "object": obj.api_name if obj else None, "trigger": row["trigger"],
            "condition": row["condition"], "actions": row["actions"], "actor": row["actor_id"],
            "active": row["active"]}


def _row(tx: Session, scenario_id: Any) -> Mapping[Any, Any]:
    try:
        sid = int(scenario_id)
    except (TypeError, ValueError):
        raise NotFound(f"there is no scenario {scenario_id!r}") from None
    row = tx.conn.execute(sa.select(SCENARIOS).where(SCENARIOS.c.id == sid)).mappings().first()
    if row is None or not _may_manage(tx, row):
        raise NotFound(f"there is no scenario {scenario_id!r}")
    return row


def _may_manage(tx: Session, row: Mapping[Any, Any]) -> bool:
    if tx.actor.is_admin:
        return True
    return row["object_id"] is not None and tx.schema.has_object(row["object_id"]) and tx.can(row["object_id"],
                                                                                               "configure")


def _name_free(tx: Session, name: str, own_id: int | None = None) -> None:
    query = sa.select(SCENARIOS.c.id).where(SCENARIOS.c.name == name)
    if own_id is not None:
        query = query.where(SCENARIOS.c.id != own_id)
    if tx.conn.execute(query).first() is not None:
        raise ValidationError({"name": f"a scenario named '{name}' already exists"})


def create(tx: Session, spec: Mapping[str, Any]) -> dict[str, Any]:
    values = _check(tx, spec)
    _name_free(tx, values["name"])
    sid: int = tx.conn.execute(sa.insert(SCENARIOS).returning(SCENARIOS.c.id),
                          {**values, "created_at": clock.now(), "last_checked_at": clock.now()}).scalar_one()
    return get(tx, sid)


def get(tx: Session, scenario_id: Any) -> dict[str, Any]:
    return _json(tx, _row(tx, scenario_id))


def list_all(tx: Session) -> list[dict[str, Any]]:
    rows = tx.conn.execute(sa.select(SCENARIOS).order_by(SCENARIOS.c.name)).mappings()
    return [_json(tx, r) for r in rows if _may_manage(tx, r)]


def update(tx: Session, scenario_id: Any, spec: Mapping[str, Any]) -> dict[str, Any]:
    row = _row(tx, scenario_id)
    current = _json(tx, row)
    current["actor"] = row["actor_id"]
    merged = {k: current[k] for k in SETTINGS if k in current}
    merged.update(spec)
    values = _check(tx, merged)
    _name_free(tx, values["name"], row["id"])
    tx.conn.execute(sa.update(SCENARIOS).where(SCENARIOS.c.id == row["id"]).values(**values))
    return get(tx, row["id"])


def delete(tx: Session, scenario_id: Any) -> None:
    row = _row(tx, scenario_id)
    tx.conn.execute(sa.delete(SCENARIOS).where(SCENARIOS.c.id == row["id"]))


def runs(tx: Session, scenario_id: Any, limit: int = 50) -> list[dict[str, Any]]:
    row = _row(tx, scenario_id)
    rows = tx.conn.execute(sa.select(RUNS).where(RUNS.c.scenario_id == row["id"]).order_by(RUNS.c.id.desc())
                           .limit(limit)).mappings()
    return [{"id": r["id"], "record": r["record_id"], "status": r["status"], "steps": [_shown(s) for s in r["steps"]],
             "at": r["at"].isoformat() + "Z"} for r in rows]


# The run log's own step names, translated when read like the results (the actions' are "1. notify").
STEP_NAMES = {name: name for name in (N_("trigger"), N_("condition"), N_("loop protection"), N_("start"))}


def _step(step: str, ok: bool, result: str | Note) -> dict[str, Any]:
    """A run-log step. An engine message is kept with its parameters (like a notification),
    so the run log reads in the reader's language; an error's text is kept as it came."""
    if isinstance(result, Note):
        return {"step": step, "ok": ok, "result": result.english(), "message": result.message, "params": result.params}
    return {"step": step, "ok": ok, "result": result}


def _shown(step: Mapping[str, Any]) -> dict[str, Any]:
    name = step["step"]
    return {"step": i18n._(name) if name in STEP_NAMES else name, "ok": step["ok"],
            "result": notifications.shown_text(step.get("message"), step.get("params"), step["result"])}


# ---- events -> runs ------------------------------------------------------------------------------
def dispatch(services: "Services", conn: Connection, events: list[Mapping[Any, Any]]) -> int:
    """Queue a run per (event, active scenario whose trigger it matches); one query for the scenarios."""
    rows = conn.execute(sa.select(SCENARIOS).where(SCENARIOS.c.active.is_(True))).mappings().all()
    listening = [r for r in rows if TRIGGERS[r["trigger"]["type"]].topic is not None]
    queued = 0
    for event in events:
        for row in listening:
            trigger = row["trigger"]
            if row["object_id"] != event["object_id"] or TRIGGERS[trigger["type"]].topic != event["topic"]:
                continue
            if trigger["type"] == "field_changed" and trigger["field"] not in (event["payload"] or {}).get("fields", ()):
                continue
            jobs.enqueue(conn, JOB_KIND, {"scenario_id": row["id"], "record_id": event["record_id"],
                                          "topic": event["topic"], "event": dict(event["payload"] or {})})
            queued += 1
    return queued


def _log(conn: Connection, row: Mapping[Any, Any], record_id: Any, status: str, steps: list[dict[str, Any]]) -> None:
    conn.execute(sa.insert(RUNS), {"scenario_id": row["id"], "object_id": row["object_id"], "record_id": record_id,
                                   "status": status, "steps": steps, "at": clock.now(), "depth": 0})


def _loops(conn: Connection, row: Mapping[Any, Any], record_id: Any) -> bool:
    if record_id is None:
        return False
    recent = conn.execute(sa.select(sa.func.count()).select_from(RUNS).where(
        RUNS.c.scenario_id == row["id"], RUNS.c.record_id == record_id, RUNS.c.status == "ok",
        RUNS.c.at >= clock.now() - LOOP_WINDOW)).scalar_one()
    return recent >= LOOP_LIMIT


def execute(services: "Services", scenario_id: int, record_id: int | None, *, event: Mapping[str, Any] | None = None,
            topic: str | None = None, payload: dict[str, Any] | None = None) -> str:
    """One run: loop check, trigger and condition as the actor sees the record, then the steps
    in one savepoint (all or nothing). Returns the run's status."""
    db = services.store.db
    with db.write() as conn:
        row = conn.execute(sa.select(SCENARIOS).where(SCENARIOS.c.id == scenario_id)).mappings().first()
        if row is None or not row["active"]:
            return "gone"
        if _loops(conn, row, record_id):
            _log(conn, row, record_id, "stopped", [_step("loop protection", False, Note(
                N_("ran %(n)s times on this record within %(s)s s: stopped"),
                {"n": LOOP_LIMIT, "s": int(LOOP_WINDOW.total_seconds())}))])
            notifications.notify(conn, [row["actor_id"]], "scenario_stopped", notifications.Note(
                notifications.N_("The scenario '%(name)s' was stopped: it kept triggering itself on record %(record)s"),
                {"name": row["name"], "record": record_id}), object_id=row["object_id"], record_id=record_id)
            return "stopped"
        steps: list[dict[str, Any]] = []
        try:
            tx = Session(services.store, conn, actor_of(conn, row["actor_id"]), write=True)
            obj = tx.object(row["object_id"]) if row["object_id"] is not None else None
            record = None
            if obj is not None and record_id is not None:
                record = tx.fetch(obj, [record_id]).get(record_id)
                if record is None:
                    _log(conn, row, record_id, "skipped", [_step("trigger", False, Note(
                        N_("the record is gone or hidden from the actor"), {}))])
                    return "skipped"
                trigger = TRIGGERS[row["trigger"]["type"]]
                changes = changes_of(conn, obj, record_id, (event or {}).get("version"), tx.access.field_readable(obj))
                if event is not None and topic is not None and not trigger.matches(
                        row["trigger"], {"topic": topic, "payload": event}, {**record, "__changes": changes}):
                    return "no match"  # not logged: most updates are not the change a scenario waits for
                if row["condition"]:
                    cond = {"and": [{"field": "id", "op": "eq", "value": record_id}, row["condition"]]}
                    if not tx.list(obj, ListQuery(filter=cond, limit=1), with_count=False).data:
                        _log(conn, row, record_id, "skipped", [_step("condition", False, Note(
                            N_("the record does not meet the conditions"), {}))])
                        return "skipped"
            run = Run(tx, obj, record, row, payload or {})
            with conn.begin_nested():
                for i, spec in enumerate(row["actions"]):
                    label = f"{i + 1}. {spec['type']}"
                    try:
                        steps.append(_step(label, True, ACTIONS[spec["type"]].run(run, spec)))
                    except CardbaseError as exc:
                        steps.append(_step(label, False, exc.message))
                        raise
        except CardbaseError:
            pass
        else:
            _log(conn, row, record_id, "ok", steps)
            return "ok"
    with db.write() as conn:  # the failed run's writes are gone; its log stays
        _log(conn, row, record_id, "failed", steps or [_step("start", False, Note(N_("could not start"), {}))])
    return "failed"


class RunScenario:
    """The job handler: a failed run is logged, not retried (a refusal will not change by itself)."""

    kind = JOB_KIND

    def run(self, services: "Services", job: jobs.ClaimedJob) -> None:
        p = job.payload
        execute(services, p["scenario_id"], p.get("record_id"), event=p.get("event"), topic=p.get("topic"),
                payload=p.get("payload"))


# ---- time: date fields reached and schedules ----------------------------------------------------
def _periodic(conn: Connection, kind: str) -> list[Mapping[Any, Any]]:
    return [r for r in conn.execute(sa.select(SCENARIOS).where(SCENARIOS.c.active.is_(True))).mappings()
            if r["trigger"].get("type") == kind]


def _any_periodic(services: "Services", kind: str) -> bool:
    """A read first, so an idle worker takes no write lock every second."""
    with services.store.db.read() as conn:
        return bool(_periodic(conn, kind))


def date_ticker(services: "Services") -> int:
    """Queue runs for records whose date field (shifted by ``days``) was reached since the
    scenario's last check: each record once per date."""
    now = clock.now()
    queued = 0
    if not _any_periodic(services, "date_reached"):
        return 0
    with services.store.db.write() as conn:
        for row in _periodic(conn, "date_reached"):
            last = row["last_checked_at"] or now
            if last.date() >= now.date() and row["last_checked_at"] is not None:
                continue
            shift = timedelta(days=-row["trigger"]["days"])  # days=-3: the date is 3 days after today
            start, end = (last + shift).date(), (now + shift).date()
            tx = Session(services.store, conn, actor_of(conn, row["actor_id"]), write=False)
            field = row["trigger"]["field"]
            cond: dict[str, Any] = {"and": [{"field": field, "op": "gt", "value": start.isoformat()},
                            {"field": field, "op": "le", "value": end.isoformat()}]}
            if row["last_checked_at"] is None or last.date() == now.date():
                cond = {"field": field, "op": "eq", "value": end.isoformat()}
            query = ListQuery(filter=cond, fields=["id"], limit=500)
            while True:
                page = tx.list(row["object_id"], query, with_count=False)
                for record in page.data:
                    jobs.enqueue(conn, JOB_KIND, {"scenario_id": row["id"], "record_id": record["id"]})
                    queued += 1
                if not page.next_cursor:
                    break
                query = dataclasses.replace(query, cursor=page.next_cursor)
            conn.execute(sa.update(SCENARIOS).where(SCENARIOS.c.id == row["id"]).values(last_checked_at=now))
    return queued


def schedule_ticker(services: "Services") -> int:
    """Queue one run (no record) per scenario whose cron time passed since its last check."""
    now = clock.now()
    queued = 0
    if not _any_periodic(services, "schedule"):
        return 0
    with services.store.db.write() as conn:
        for row in _periodic(conn, "schedule"):
            last: datetime = row["last_checked_at"] or now
            if cron_next(row["trigger"]["cron"], last) <= now:
                jobs.enqueue(conn, JOB_KIND, {"scenario_id": row["id"], "record_id": None})
                queued += 1
            conn.execute(sa.update(SCENARIOS).where(SCENARIOS.c.id == row["id"]).values(last_checked_at=now))
    return queued


def incoming(services: "Services", token: str, payload: dict[str, Any]) -> int:
    """An incoming webhook: queue a run of the scenario with that token; its job id."""
    with services.store.db.write() as conn:
        for row in _periodic(conn, "webhook"):
            if row["trigger"].get("token") == token:
                job: dict[str, Any] = {"scenario_id": row["id"], "record_id": None, "payload": payload}
                return jobs.enqueue(conn, JOB_KIND, job)
    raise NotFound("there is no scenario with this incoming webhook")
