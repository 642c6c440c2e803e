"""Web forms: ``/api/v1/forms`` (+ ``/{id}``) to define them (configure right on the
object); the public page and its post are ``/f/{slug}`` (``platform/web/public_forms.py``)."""
from __future__ import annotations

from flask import url_for

from cardbase.automation import forms

from ..context import engine_session
from .blueprint import bp
from .http import small_id, json_object, json_response, no_content, require_keys


@bp.get("/v1/forms")
def list_forms():
    return json_response({"data": forms.list_all(engine_session())})


@bp.post("/v1/forms")
def create_form():
    body = json_object()
    require_keys(body, "slug", "title", "object", "fields")
    made = forms.create(engine_session(write=True), body)
    return json_response(made, 201, {"Location": url_for("api.get_form", form_id=made["id"])})


@bp.get("/v1/forms/<form_id>")
def get_form(form_id: str):
    return json_response(forms.get(engine_session(), small_id(form_id, "form_id")))


@bp.patch("/v1/forms/<form_id>")
def update_form(form_id: str):
    return json_response(forms.update(engine_session(write=True), small_id(form_id, "form_id"), json_object()))


@bp.delete("/v1/forms/<form_id>")
def delete_form(form_id: str):
    forms.delete(engine_session(write=True), small_id(form_id, "form_id"))
    return no_content()
