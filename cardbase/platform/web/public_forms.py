"""Public web forms at ``/f/<slug>`` (and ``/f/<slug>/embed.js``), the one page anonymous
visitors reach besides the login.

The page may be framed by any site (CSP ``frame-ancestors *``: embedded by an iframe or
the script snippet, which writes that iframe). An anonymous post carries no CSRF token:
there is no session to forge, and the cookie of a site framed elsewhere is not sent
anyway; the honeypot, the rate limit per address and the size limits protect it
(``cardbase.automation.forms``). A signed-in call-centre operator posting the same form
acts as themselves, so their post must carry the CSRF token like every other form.
"""
from __future__ import annotations

from flask import Blueprint, Response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import validate_csrf
from wtforms.validators import ValidationError as CsrfError

from cardbase.automation import forms
from cardbase.schema_engine.errors import NotFound, ValidationError

from ..context import current_actor, get_db, get_store

bp = Blueprint("public_forms", __name__)
PUBLIC_ENDPOINTS = frozenset({"public_forms.form", "public_forms.embed"})
MAX_POST = 64 * 1024
FRAMEABLE = ("default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'self'; form-action 'self'; "
             "frame-ancestors *")
INPUT_TYPES = {"integer": "number", "decimal": "number", "money": "number", "date": "date",
               "datetime": "datetime-local", "email": "email", "url": "url", "phone": "tel"}


def _page(form: dict, values: dict, errors: dict, status: int = 200, done: str | None = None) -> Response:
    html = render_template("web/automation/public_form.html", form=form, values=values, errors=errors, done=done,
                           honeypot=forms.HONEYPOT, input_types=INPUT_TYPES,
                           operator=current_user.is_authenticated)
    response = Response(html, status)
    response.headers["Content-Security-Policy"] = FRAMEABLE
    response.headers["X-Frame-Options"] = "ALLOWALL"  # superseded by frame-ancestors; DENY is not set
    return response


def _load(slug: str) -> dict:
    db = get_db()
    with db.read() as conn:
        return forms.public(conn, db.schema(conn), slug)


@bp.route("/f/<slug>", methods=["GET", "POST"])
def form(slug: str):
    try:
        found = _load(slug)
    except NotFound:
        return Response(_("There is no such form."), 404, {"Content-Type": "text/plain; charset=utf-8"})
    if request.method == "GET":
        return _page(found, {}, {})
    if (request.content_length or 0) > MAX_POST:
        return _page(found, {}, {"form": [_("The form is too large.")]}, 413)
    operator = None
    if current_user.is_authenticated:
        try:
            validate_csrf(request.form.get("csrf_token"))
        except CsrfError:
            return _page(found, dict(request.form), {"form": [_("The form expired: reload the page.")]}, 400)
        operator = current_actor()
    data = {k: v for k, v in request.form.items()}
    try:
        answer = forms.submit(get_store(), slug, data, request.remote_addr or "unknown", operator=operator)
    except forms.RateLimited as exc:
        page = _page(found, data, {"form": [_("Too many posts from your address: please try again later.")]}, 429)
        page.headers["Retry-After"] = str(exc.retry_after)
        return page
    except ValidationError as exc:
        return _page(found, data, exc.errors, 422)
    if answer["redirect_url"]:
        return redirect(answer["redirect_url"])
    return _page(found, {}, {}, done=answer["confirmation"] or _("Thank you: your message was received."))


@bp.get("/f/<slug>/embed.js")
def embed(slug: str):
    """The script snippet: ``<script src=".../f/<slug>/embed.js"></script>`` puts the form in an iframe."""
    try:
        _load(slug)
    except NotFound:
        return Response("", 404, {"Content-Type": "text/javascript"})
    src = url_for("public_forms.form", slug=slug, _external=True)
    script = ("(function(){var s=document.currentScript;var f=document.createElement('iframe');"
              f"f.src={src!r};f.style.width='100%';f.style.border='0';f.style.minHeight='480px';"
              "f.title='form';s.parentNode.insertBefore(f,s);})();")
    return Response(script, 200, {"Content-Type": "text/javascript; charset=utf-8"})
