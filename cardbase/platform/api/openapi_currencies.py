"""The OpenAPI paths of the base currency and exchange rates (api/currencies.py)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from .openapi import body, ok_json, responses

if TYPE_CHECKING:  # pragma: no cover
    from .openapi import _Builder

_RATE = {"type": "object", "required": ["currency", "rate", "valid_from"], "properties": {
    "currency": {"type": "string", "pattern": "^[A-Z]{3}$", "description": "ISO 4217 code, not the base currency"},
    "rate": {"type": "string", "description": "what 1 unit is worth in the base currency, greater than 0",
             "example": "1.17"},
    "valid_from": {"type": "string", "format": "date"},
    "valid_to": {"type": ["string", "null"], "format": "date", "description": "inclusive; null: open-ended"}}}


def currency_paths(b: "_Builder") -> None:
    tag = b.tag("currencies", "The base currency and exchange rates with validity dates (issue 14)")
    b.spec.components.schema("Currencies", component={"type": "object", "properties": {
        "base_currency": {"type": ["string", "null"], "pattern": "^[A-Z]{3}$"},
        "rates": {"type": "array", "items": _RATE, "description": "periods of one currency never overlap"}}})
    b.path("/api/v1/currencies", tag, get={
        "summary": "The base currency and the exchange rates", "operationId": "getCurrencies",
        "responses": responses({200: ok_json("Currencies")}, 401)}, put={
        "summary": "Replace the base currency and every rate (administrators; all or nothing)",
        "operationId": "putCurrencies", "requestBody": body("Currencies"),
        "responses": responses({200: ok_json("Currencies")}, 400, 401, 403, 415, 422)})
