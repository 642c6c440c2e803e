"""Scenarios: ``/api/v1/scenarios`` (+ ``/{id}``, ``/{id}/runs``) and the public incoming
webhook of a scenario, ``POST /api/v1/hooks/{token}`` (its token is the secret).

Through ``cardbase.automation.scenarios`` in the request's engine session: a scenario of
an object needs the configure right on it."""
from __future__ import annotations

from flask import url_for

from cardbase.automation import scenarios
from cardbase.automation.worker import Services

from ..context import engine_session, get_store
from .blueprint import bp
from .http import small_id, arg_int, json_body, json_object, json_response, no_content, require_keys


@bp.get("/v1/scenarios")
def list_scenarios():
    return json_response({"data": scenarios.list_all(engine_session())})


@bp.post("/v1/scenarios")
def create_scenario():
    body = json_object()
    require_keys(body, "name", "trigger", "actions")
    made = scenarios.create(engine_session(write=True), body)
    return json_response(made, 201, {"Location": url_for("api.get_scenario", scenario_id=made["id"])})


@bp.get("/v1/scenarios/<scenario_id>")
def get_scenario(scenario_id: str):
    return json_response(scenarios.get(engine_session(), small_id(scenario_id, "scenario_id")))


@bp.patch("/v1/scenarios/<scenario_id>")
def update_scenario(scenario_id: str):
    sid = small_id(scenario_id, "scenario_id")
    return json_response(scenarios.update(engine_session(write=True), sid, json_object()))


@bp.delete("/v1/scenarios/<scenario_id>")
def delete_scenario(scenario_id: str):
    scenarios.delete(engine_session(write=True), small_id(scenario_id, "scenario_id"))
    return no_content()


@bp.get("/v1/scenarios/<scenario_id>/runs")
def scenario_runs(scenario_id: str):
    limit = arg_int("limit", 500) or 50
    return json_response({"data": scenarios.runs(engine_session(), small_id(scenario_id, "scenario_id"), limit)})


@bp.post("/v1/hooks/<token>")
def incoming_hook(token: str):
    """Start the scenario whose incoming webhook this is (no token: the URL is the secret)."""
    payload = json_body(required=False)
    job = scenarios.incoming(Services(store=get_store()), token, payload if isinstance(payload, dict) else {})
    return json_response({"queued": job}, 202)
