"""The error page of the end-user screens: one message, titled by its HTTP status."""
from __future__ import annotations

from flask import render_template
from flask_babel import gettext as _


class PageError(Exception):
    """A clear message for the user, shown on the error page with ``status``."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message, self.status = message, status


def error_page(message: str, status: int, title: str | None = None):
    """The rendered error page and its status; the title defaults to one for the status."""
    titles = {403: _("Not allowed"), 404: _("Not found")}
    return render_template("error.html", title=title or titles.get(status, _("Cannot show this page")),
                           message=message), status


# ---- styled pages for HTTP errors of every blueprint ----------------------------------------------
def _http_page(exc):
    """403, 404, 405 and 500 as the app's own page (header, message, a way back) for every
    blueprint; the API keeps its JSON answers."""
    from ..api import errors as api_errors

    if api_errors.is_api_request():
        return api_errors.from_http_error(exc)
    code = getattr(exc, "code", 500) or 500
    titles = {403: _("Not allowed"), 404: _("Not found"), 405: _("Not possible this way"),
              500: _("Something went wrong")}
    messages = {403: _("You may not open this page. If you need it, ask an administrator."),
                404: _("There is no such page. It may have been moved or deleted, or the address is mistyped."),
                405: _("This page cannot be used this way (for example, a form was sent to an address that only "
                       "shows a page)."),
                500: _("The server could not finish this request. Nothing was saved; try again, and tell an "
                       "administrator if it happens again.")}
    page = render_template("error.html", title=titles[code], message=messages[code])
    headers = {"Allow": ", ".join(exc.valid_methods)} if code == 405 and getattr(exc, "valid_methods", None) else {}
    return page, code, headers


def install(app) -> None:
    """Register the styled pages for 403, 404, 405 and 500 on the app (all blueprints)."""
    for code in (403, 404, 405, 500):
        app.register_error_handler(code, _http_page)
