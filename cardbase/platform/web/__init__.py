"""The end-user web: every screen generated from the metadata.

One module per screen, each with its own blueprint: ``nav`` (menu and page context),
``account`` (language), ``display`` (how a value shows, one class per field type). The
screens read and write only through the record store, so rights, validation, formulas
and history hold here exactly as in the API.
"""
from __future__ import annotations

from flask import Flask

from . import account, actions, boards, cards, lists, nav, search
from . import dashboards, report_designer, reports
from . import transfer
from . import documents
from .icons import icon
from .widgets.dates import local_input


def init_app(app: Flask) -> None:
    app.register_blueprint(account.bp)
    app.register_blueprint(actions.bp)
    app.register_blueprint(boards.bp)
    app.register_blueprint(cards.bp)
    app.register_blueprint(lists.bp)
    app.register_blueprint(search.bp)
    app.register_blueprint(reports.bp)
    app.register_blueprint(report_designer.bp)
    app.register_blueprint(dashboards.bp)
    app.register_blueprint(transfer.bp)  # the import wizard and the duplicates screen
    documents.init_app(app)  # the card's Documents menu and the list's documents for a selection
    nav.init_app(app)
    app.jinja_env.globals["icon"] = icon  # inline SVG icons (no emoji, no icon font)
    app.jinja_env.globals["local_input"] = local_input  # dates outside cards, the user's way
