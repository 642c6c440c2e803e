"""The admin area (blueprint "admin" under /admin): users, groups, the rights matrix, field
rights, rule views and "why can she see this" -- one module per screen. Only
administrators come in (a styled 403 otherwise); every change goes to the engine's
account and rights services with the acting admin, which apply the one admin policy,
refuse bad input naming the field and log rights changes with before and after.

``own_account`` (every user's password and API tokens) and ``invitation`` (setting a
first password from an invitation link, before login) are blueprints of their own.
"""
from __future__ import annotations

from flask import Blueprint, Flask

from ..web.errors import error_page

bp = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates", static_folder="static",
               static_url_path="/static")

# Reached without login: accepting an invitation (the link's signature is the credential).
PUBLIC_ENDPOINTS = frozenset({"invitation.accept"})


@bp.before_request
def _admins_only():
    """The one admin policy decides (``accounts.policy.ADMIN``); a styled 403 otherwise."""
    from flask_babel import gettext as _

    from cardbase.schema_engine.accounts.policy import ADMIN

    from ..context import current_actor

    if not ADMIN.is_admin(current_actor()):
        return error_page(_("Only administrators may open the administration."), 403)
    return None


from . import users, groups, rights, rule_views, explain  # noqa: E402,F401  (routes register on bp)
from . import own_account, invitation, view_as  # noqa: E402
from . import backup  # noqa: E402,F401  (the backup screen)
from ..web import share_dialog  # noqa: E402


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.register_blueprint(own_account.bp)
    app.register_blueprint(invitation.bp)
    view_as.init_app(app)
    app.register_blueprint(share_dialog.bp)  # the Share dialog of the card
    app.jinja_env.globals["share_block"] = share_dialog.share_block
