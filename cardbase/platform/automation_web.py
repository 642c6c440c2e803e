"""Registers the browser side of automation and collaboration (issue 18) on the app: the
bell, "My tasks" and the card's activity block (``web/collaboration.py``) and the public
web forms (``web/public_forms.py``). One call from the app factory."""
from __future__ import annotations

from flask import Flask

from .web import collaboration, public_forms

PUBLIC_ENDPOINTS = public_forms.PUBLIC_ENDPOINTS


def init_app(app: Flask, csrf) -> None:
    app.register_blueprint(collaboration.bp)
    app.register_blueprint(public_forms.bp)
    csrf.exempt(public_forms.form)  # anonymous posts have no session; operators' tokens are checked in the view
    app.jinja_env.globals.update(card_activity=collaboration.card_activity, bell_unread=collaboration.bell_unread)
