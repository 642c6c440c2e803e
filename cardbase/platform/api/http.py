"""Request and response helpers of the API: JSON bodies (content type, size, strict
parsing), path ids, query parameters, If-Match versions and JSON responses."""
from __future__ import annotations

import re
from typing import Any, Mapping

from flask import Response, current_app, request

from cardbase.schema_engine.errors import ValidationError

from .errors import ApiError, bad_request
from .jsonio import JsonInputError, check_text, dumps, loads

_INT = re.compile(r"[+-]?[0-9]{1,30}")
DEFAULT_MAX_BODY = 10 * 1024 * 1024  # 10 MB: a bulk write of 1,000 records is far below
MAX_ID = 2**63 - 1  # record ids: BIGINT
MAX_SMALL_ID = 2**31 - 1  # ids of users, groups, tokens, rule views: INTEGER


def body_limit() -> int:
    return int(current_app.config.get("CARDBASE_API_MAX_BODY") or DEFAULT_MAX_BODY)


def is_json_type() -> bool:
    mimetype = (request.mimetype or "").lower()
    return mimetype == "application/json" or (mimetype.startswith("application/") and mimetype.endswith("+json"))


def has_body() -> bool:
    if request.content_length is not None:
        return request.content_length > 0
    return "chunked" in (request.headers.get("Transfer-Encoding") or "").lower()


def json_body(*, required: bool = True) -> Any:
    """The request's JSON body. 415 for another content type, 413 beyond the limit, 400
    for malformed JSON or text that cannot be stored; None for no body when allowed."""
    if not has_body():
        if required:
            raise bad_request("the request needs a JSON body", code="missing_body")
        return None
    if not is_json_type():
        shown = request.mimetype or "none"
        raise ApiError(415, f"send the request body as JSON (Content-Type: application/json), not {shown}")
    limit = body_limit()
    request.max_content_length = limit
    data = request.get_data(cache=False)  # raises 413 when Content-Length is past the limit
    if len(data) >= limit:
        request.stream.read(1)  # a streamed (chunked) body stops at the limit: more is a 413
    if not data.strip():
        if required:
            raise bad_request("the request needs a JSON body", code="missing_body")
        return None
    try:
        return loads(data)
    except JsonInputError as exc:
        raise bad_request(str(exc), code="invalid_json") from None


def json_object(*, required: bool = True) -> dict[str, Any]:
    if not required and not has_body():
        return {}
    body = json_body()
    if not isinstance(body, dict):
        raise ApiError(422, "the request body must be a JSON object", code="validation_error",
                       fields={"body": "must be a JSON object"})
    return body


def record_id(text: str, name: str = "id", maximum: int = MAX_ID) -> int:
    """An id from the path: digits only, 1 .. 2^63-1 (records) or 2^31-1 (users, groups …)."""
    if not (text.isascii() and text.isdigit()) or len(text) > 19 or not 1 <= int(text) <= maximum:
        shown = text if len(text) <= 40 else text[:40] + "…"
        raise ApiError(400, f"'{shown}' is not a valid {name}: ids are whole numbers from 1 to {maximum}",
                       code="invalid_id", fields={name: f"'{shown}' is not a whole number from 1 to {maximum}"})
    return int(text)


def small_id(text: str, name: str) -> int:
    return record_id(text, name, MAX_SMALL_ID)


def arg_text(name: str, max_len: int = 10_000) -> str | None:
    value = request.args.get(name)
    if value is None:
        return None
    if len(value) > max_len:
        raise bad_request(f"is longer than {max_len} characters", name)
    problem = check_text(value, name)
    if problem:
        raise bad_request(problem, name)
    return value


def arg_int(name: str, maximum: int = MAX_ID) -> int | None:
    """A whole-number query parameter (within the databases' BIGINT range, or ``maximum``)."""
    value = request.args.get(name)
    if value is None or value == "":
        return None
    text = value.strip()
    if not _INT.fullmatch(text) or abs(int(text)) > maximum:
        raise bad_request(f"'{value[:40]}' is not a whole number", name)
    return int(text)


def id_or_name(value: Any, key: str) -> int | str:
    """A user or group named in a body: its id (1 .. 2^63-1) or its name."""
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_SMALL_ID:
        return value
    if isinstance(value, str) and 0 < len(value) <= 150:
        return value
    raise ApiError(422, f"{key} must be an id or a name", code="validation_error",
                   fields={key: "must be an id (a whole number) or a name"})


def arg_bool(name: str) -> bool:
    value = request.args.get(name)
    if value is None or value == "":
        return False
    if value.lower() in ("true", "1", "yes"):
        return True
    if value.lower() in ("false", "0", "no"):
        return False
    raise bad_request(f"'{value[:40]}' is not true or false", name)


def arg_json(name: str) -> Any:
    value = request.args.get(name)
    if value is None or value == "":
        return None
    try:
        return loads(value, what=f"the '{name}' parameter")
    except JsonInputError as exc:
        raise bad_request(str(exc), name) from None


def if_match_version(body: Mapping[str, Any] | None = None) -> int | None:
    """The version the client read: the If-Match header ("3", W/"3" or 3) or "version" in
    the body; both may be given if they agree."""
    header = request.headers.get("If-Match")
    from_header = None
    if header is not None:
        text = header.strip()
        if text.startswith("W/"):
            text = text[2:]
        text = text.strip().strip('"')
        if not (text.isascii() and text.isdigit()) or len(text) > 10:
            raise bad_request(f"If-Match must be the record's version (its ETag, e.g. \"3\"), not {header[:40]!r}",
                              "If-Match")
        from_header = int(text)
    from_body = None
    if body is not None and "version" in body:
        from_body = body["version"]
        if isinstance(from_body, bool) or not isinstance(from_body, int):
            raise ApiError(422, "version must be a whole number", code="validation_error",
                           fields={"version": "must be a whole number: the version of the record you read"})
    if from_header is not None and from_body is not None and from_header != from_body:
        raise bad_request(f"If-Match says version {from_header} but the body says {from_body}", "version")
    return from_header if from_header is not None else from_body


_ENTITY_TAG = re.compile(r'(?:W/)?"([\x21\x23-\x7e]{1,100})"|([\x21\x23-\x2b\x2d-\x7e]{1,100})')


def if_match_tags() -> list[str] | None:
    """The entity tags of the If-Match header of a card, table or view save ("a1b2…",
    W/"a1b2…" or a list of them); None when there is none, or "*" (any current state)."""
    header = request.headers.get("If-Match")
    if header is None or header.strip() == "*":
        return None
    tags = []
    for part in header.split(","):
        match = _ENTITY_TAG.fullmatch(part.strip())
        if match is None:
            raise bad_request(f"If-Match must be the ETag you read (e.g. \"3f2a…\"), not {header[:40]!r}", "If-Match")
        tags.append(match.group(1) or match.group(2))
    return tags


def json_response(value: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    response = Response(dumps(value), status=status, mimetype="application/json")
    for name, item in (headers or {}).items():
        response.headers[name] = item
    return response


def no_content() -> Response:
    return Response(status=204)


def etag(version: Any) -> dict[str, str]:
    return {"ETag": f'"{version}"'} if isinstance(version, int) else {}


def reject_unknown(body: Mapping[str, Any], allowed: set[str], what: str) -> None:
    """A 422 naming each key of a body that is not one of ``allowed`` (typos must not pass silently)."""
    unknown = sorted(set(body) - allowed, key=str)
    if unknown:
        raise ValidationError({k: f"is not an attribute of {what} (allowed: {', '.join(sorted(allowed))})"
                               for k in unknown})


def require_keys(body: Mapping[str, Any], *keys: str) -> None:
    """A 422 naming each key a body must have but does not."""
    missing = [k for k in keys if k not in body]
    if missing:
        raise ValidationError({k: "is required" for k in missing})
