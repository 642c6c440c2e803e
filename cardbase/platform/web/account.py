"""The user's own settings reachable from every page: the interface language."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import users
from ..auth import is_safe_next
from ..context import current_actor, get_db
from ..i18n import LANGUAGES

bp = Blueprint("account", __name__)


@bp.route("/account/language", methods=["POST"])
def set_language():
    """Switch the interface language; it is kept on the user, so every device follows."""
    language = request.form.get("language", "")
    if language not in LANGUAGES:
        flash(_("Unknown language."), "danger")
    else:
        users.update_user(get_db(), current_actor(), current_user.row.id, language=language)
    target = request.form.get("next")
    return redirect(target if is_safe_next(target) else url_for("core.home"))
