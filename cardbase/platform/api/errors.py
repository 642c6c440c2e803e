"""The API's one error shape: ``{"error": {"code", "message", "fields": {field: [messages]}}}``.

Every failure of an API request -- the engine's errors (validation, rights, conflicts),
HTTP errors (unknown URL, wrong method, body too large, wrong content type) and, should
one slip through, an unexpected exception -- is turned into that shape here, so clients
parse one format. Some errors add a key: a conflict its ``current`` record, a bulk write
its per-row ``rows``, an object or field in use its ``usages``.
"""
from __future__ import annotations

import logging
import sqlite3
from typing import Any, Mapping

from flask import Response, request
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException

from cardbase.schema_engine.errors import (CardbaseError, Conflict, ConversionRefused, Forbidden, InUse, NotFound,
                                           ValidationError)
from cardbase.schema_engine.store.validation import BulkValidationError

from .jsonio import dumps

log = logging.getLogger(__name__)

# Machine-readable codes of the HTTP statuses the API answers with.
STATUS_CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
    409: "conflict", 413: "payload_too_large", 415: "unsupported_media_type", 422: "validation_error",
    428: "precondition_required", 429: "rate_limited", 500: "internal_error", 503: "busy",
}


class ApiError(Exception):
    """An error the API raises itself (bad parameter, missing token, rate limit …)."""

    def __init__(self, status: int, message: str, *, code: str | None = None,
                 fields: Mapping[str, list[str] | str] | None = None, headers: Mapping[str, str] | None = None,
                 extra: Mapping[str, Any] | None = None):
        super().__init__(message)
        self.status = status
        self.code = code or STATUS_CODES.get(status, "error")
        self.message = message
        self.fields = {k: [v] if isinstance(v, str) else list(v) for k, v in (fields or {}).items()}
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})


def bad_request(message: str, field: str | None = None, code: str = "bad_request") -> ApiError:
    return ApiError(400, message, code=code, fields={field: [message]} if field else None)


def error_response(status: int, code: str, message: str, fields: Mapping[str, list[str]] | None = None,
                   extra: Mapping[str, Any] | None = None, headers: Mapping[str, str] | None = None) -> Response:
    body: dict[str, Any] = {"code": code, "message": message, "fields": dict(fields or {})}
    body.update(extra or {})
    response = Response(dumps({"error": body}), status=status, mimetype="application/json")
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def from_api_error(exc: ApiError) -> Response:
    return error_response(exc.status, exc.code, exc.message, exc.fields, exc.extra, exc.headers)


def from_engine_error(exc: CardbaseError, *, query: bool = False) -> Response:
    """An engine error. ``query``: it concerns the query string of a read (filter, sort,
    fields, limit …), so a validation error is a 400 (the request is malformed), not a 422."""
    if isinstance(exc, BulkValidationError):
        return error_response(422, "validation_error", exc.message, exc.errors,
                              {"rows": {str(i): e for i, e in exc.rows.items()}})
    if isinstance(exc, ValidationError):
        if query:
            return error_response(400, "invalid_query", exc.message, exc.errors)
        return error_response(422, "validation_error", exc.message, exc.errors)
    if isinstance(exc, Conflict):
        return error_response(409, "conflict", exc.message, None, {"current": exc.current})
    if isinstance(exc, InUse):
        return error_response(409, "in_use", exc.message, None, {"usages": exc.usages})
    if isinstance(exc, ConversionRefused):
        return error_response(409, "conversion_refused", exc.message, None,
                              {"failures": exc.failures, "total": exc.total, "hidden_failures": exc.hidden})
    if isinstance(exc, NotFound):
        return error_response(404, "not_found", exc.message)
    if isinstance(exc, Forbidden):
        return error_response(403, "forbidden", exc.message)
    status = exc.status if isinstance(exc.status, int) and 400 <= exc.status < 600 else 400
    return error_response(status, STATUS_CODES.get(status, "error"), exc.message)


HTTP_MESSAGES = {
    404: "there is no such API endpoint",
    405: "this endpoint does not support the method",
    413: "the request body is too large",
    415: "send the request body as JSON (Content-Type: application/json)",
}


def from_http_error(exc: HTTPException) -> Response:
    status = exc.code or 500
    message = HTTP_MESSAGES.get(status) or (exc.description or exc.name or "error")
    if status == 413:
        limit = request.max_content_length
        if limit:
            message = f"the request body is too large: at most {limit // (1024 * 1024)} MB are accepted"
    headers = {}
    if status == 405 and getattr(exc, "valid_methods", None):
        headers["Allow"] = ", ".join(exc.valid_methods)
    return error_response(status, STATUS_CODES.get(status, "error"), message, headers=headers)


# How long a client waits before trying again when the database is held by a long change.
RETRY_AFTER_LOCKED = 5
# PostgreSQL: lock_not_available (lock_timeout) and query_canceled (statement_timeout).
LOCK_SQLSTATES = frozenset({"55P03", "57014"})


def is_lock_timeout(exc: BaseException) -> bool:
    """Whether ``exc`` says the database was held by another transaction longer than this
    one would wait: SQLite's "database is locked" (after its busy timeout) or a
    PostgreSQL lock or statement timeout. Other operational errors are not."""
    # The BEGIN IMMEDIATE of a write goes straight to the driver (db.py): its error comes unwrapped.
    orig = exc.orig if isinstance(exc, sa_exc.OperationalError) else exc
    if orig is exc and not isinstance(exc, sqlite3.OperationalError):
        return False
    if getattr(orig, "sqlstate", None) in LOCK_SQLSTATES:
        return True
    message = str(orig).lower()
    return isinstance(orig, sqlite3.OperationalError) and ("database is locked" in message
                                                           or "database table is locked" in message)


def from_lock_timeout(exc: Exception) -> Response:
    log.warning("%s %s: the database is busy (%s): 503", request.method, request.path, exc.__class__.__name__)
    return error_response(503, "busy", "the database is busy with a long change (e.g. a solution import); "
                          f"nothing was written: try again in {RETRY_AFTER_LOCKED} s",
                          headers={"Retry-After": str(RETRY_AFTER_LOCKED)})


def from_unexpected(exc: Exception) -> Response:
    log.exception("unexpected error in %s %s", request.method, request.path)
    return error_response(500, "internal_error", "an unexpected error occurred; it has been logged")


def handle(exc: Exception) -> Response:
    """Any exception of an API view as the API's error shape."""
    if isinstance(exc, ApiError):
        return from_api_error(exc)
    if isinstance(exc, CardbaseError):
        return from_engine_error(exc)
    if isinstance(exc, HTTPException):
        return from_http_error(exc)
    if is_lock_timeout(exc):
        return from_lock_timeout(exc)
    return from_unexpected(exc)


def is_api_request() -> bool:
    return request.path == "/api" or request.path.startswith("/api/")
