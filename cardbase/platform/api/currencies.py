"""The base currency and exchange rates (issue 14, point 1): GET answers them to any
signed-in caller (figures say which rate they used); PUT replaces them, administrators
only, all or nothing with every problem named by row (``rates[1].valid_from``)."""
from __future__ import annotations

from cardbase.schema_engine import currencies
from cardbase.schema_engine.errors import ValidationError

from ..context import get_db
from .auth import api_actor
from .blueprint import bp
from .http import json_object, json_response

KEYS = {"base_currency", "rates"}


@bp.get("/v1/currencies")
def get_currencies():
    api_actor()
    with get_db().read() as conn:
        return json_response(currencies.to_json(currencies.read(conn)))


@bp.put("/v1/currencies")
def put_currencies():
    actor = api_actor()
    body = json_object()
    unknown = sorted(set(body) - KEYS)
    if unknown:
        raise ValidationError({k: "is not a key of the currencies (send base_currency and rates)" for k in unknown})
    saved = currencies.replace(get_db(), actor, body.get("base_currency"), body.get("rates"))
    return json_response(currencies.to_json(saved))
