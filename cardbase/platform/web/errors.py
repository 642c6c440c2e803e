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
