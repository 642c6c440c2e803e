"""The REST API (``/api/v1``) with its OpenAPI description (``/api/openapi.json``) and a
reference page (``/api/docs``). See docs/api.md.

Modules: ``auth`` (bearer tokens, the token endpoints), ``tokens`` (token storage and the
rate limit), ``records`` (records through the record store), ``metadata`` (objects and
fields through the schema service), ``admin`` (users, groups, rights, shares),
``layouts`` (cards and the table design), ``views`` (saved views), ``trash``,
``actions`` (the caller's recent actions and undo), ``aggregate`` (grouped figures),
``export`` (CSV and XLSX), ``solution`` (export and import of the configuration), ``config_log`` (the configuration change log),
``openapi`` (the document, generated from the live metadata; ``openapi_config`` and
``openapi_lists`` describe the endpoints above), ``reference`` (the HTML page),
``errors``/``http``/``jsonio`` (one error shape, strict JSON, request helpers).
"""
from __future__ import annotations

from flask import Flask
from werkzeug.exceptions import HTTPException

from . import errors
from .blueprint import bp

# Reached without a token: getting one (the API's login). The description of the API and
# its reference page need a signed-in caller (a token or the browser's session), which
# they check themselves because the browser's session cookie counts there.
PUBLIC_ENDPOINTS = frozenset({"api.token", "api.incoming_hook"})  # incoming_hook: the token in its URL
SESSION_OR_TOKEN_ENDPOINTS = frozenset({"api.openapi", "api.reference"})


def _handle_http(exc: HTTPException):
    """App-wide (routing 404/405 and 413 happen before a blueprint is known): JSON for
    API paths, Flask's own answer elsewhere."""
    if errors.is_api_request():
        return errors.from_http_error(exc)
    return exc


def require_token():
    from .auth import require_token as check

    return check()


def optional_actor():
    """The caller by bearer token or browser session, or None (anonymous)."""
    from .auth import optional_actor as find

    return find()


def init_app(app: Flask, csrf) -> None:
    """Register the API on the app: routes, JSON errors, and no CSRF (bearer tokens only)."""
    from . import (actions, admin, aggregate, auth, config_log, export, layouts, metadata, openapi,  # noqa: F401
                   records, reference, solution, trash, views)  # (register routes)
    from . import reports  # noqa: F401  (reports and dashboards)
    from . import collaboration, forms, scenarios, webhooks  # noqa: F401  (automation and collaboration)
    from . import documents  # noqa: F401  (Word templates and documents)
    from . import imports  # noqa: F401  (spreadsheet imports and their jobs)
    from . import currencies  # noqa: F401  (base currency and exchange rates)

    app.register_blueprint(bp)
    csrf.exempt(bp)
    app.register_error_handler(HTTPException, _handle_http)
