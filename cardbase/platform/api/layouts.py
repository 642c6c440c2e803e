"""Card layouts and the table design of an object (the configure right, as in the card and
table designers).

Every call goes through ``layouts.cards`` and ``layouts.tables`` -- the functions the
designers use -- which validate the layout (naming each problem by its place, e.g.
``layout.tabs[0].sections[1].items[2].field``), check the configure right, log the change
and bump the schema version. Reads check the configure right here, like the designer's
screens. Layouts are in their named form: fields by API name, child lists as
``{"object", "link"}``, never field ids.

Cards and the table design answer with an ``ETag`` (the engine's fingerprint of what was
read: ``cards.card_etag``, ``tables.table_etag``); a PUT or PATCH with ``If-Match`` is
refused with 409 (``current``: the card or table as it is now) when someone changed it
since, and changes nothing. Without ``If-Match`` the last write wins, as for records.
"""
from __future__ import annotations

from typing import Any

from flask import url_for

from cardbase.schema_engine.layouts import cards, table_designs, tables
from cardbase.schema_engine.snapshot import ObjectInfo

from ..context import get_db
from ..jsonio import usable_filter
from .auth import api_actor
from .blueprint import bp
from .http import if_match_tags, json_object, json_response, no_content, reject_unknown, require_keys, small_id
from .metadata import configurable_object
from .records import reading

CARD_KEYS = {"name", "layout", "is_default"}


def _object(object_name: str) -> ObjectInfo:
    return configurable_object(object_name)[1]


def _save_card(obj: ObjectInfo, body: dict[str, Any], card_id: int | None, defaults: dict[str, Any]):
    """Save a card from a request body, taking what the body leaves out from ``defaults``
    (the engine compares the If-Match tags with the card as stored, in its transaction)."""
    reject_unknown(body, CARD_KEYS, "a card")
    merged = {**defaults, **body}
    return cards.save_card(get_db(), api_actor(), obj.api_name, merged.get("name"), merged.get("layout"),
                           is_default=merged.get("is_default", False), card_id=card_id,
                           expected=if_match_tags() if card_id is not None else None)


def _card_response(card: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None):
    return json_response(card, status, {**(headers or {}), "ETag": f'"{cards.card_etag(card)}"'})


def _table_response(definition: dict[str, Any]):
    return json_response(definition, headers={"ETag": f'"{tables.table_etag(definition)}"'})


# ---- cards ---------------------------------------------------------------------------------------
@bp.get("/v1/objects/<object_name>/cards")
def list_cards(object_name: str):
    """The designed cards (empty when none was designed: the default card is generated)."""
    obj = _object(object_name)
    return json_response({"data": cards.list_cards(reading(), obj.api_name)})


@bp.get("/v1/objects/<object_name>/cards/default")
def default_card(object_name: str):
    """The card records open with: the default one, or the generated one (id null)."""
    obj = _object(object_name)
    return _card_response(cards.get_card(reading(), obj.api_name))


@bp.post("/v1/objects/<object_name>/cards")
def create_card(object_name: str):
    body = json_object()
    obj = _object(object_name)
    require_keys(body, "name")
    generated = {"layout": cards.default_layout(reading().schema, obj)}  # what the designer starts from
    card = _save_card(obj, body, None, generated)
    location = url_for("api.get_card", object_name=obj.api_name, card_ref=card["id"])
    return _card_response(card, 201, {"Location": location})


@bp.get("/v1/objects/<object_name>/cards/<card_ref>")
def get_card(object_name: str, card_ref: str):
    card_id = small_id(card_ref, "card_id")
    return _card_response(cards.get_card(reading(), _object(object_name).api_name, card_id))


@bp.put("/v1/objects/<object_name>/cards/<card_ref>")
def replace_card(object_name: str, card_ref: str):
    """Replace name and layout; ``is_default`` left out keeps the card's status."""
    card_id = small_id(card_ref, "card_id")
    body = json_object()
    obj = _object(object_name)
    require_keys(body, "name", "layout")
    current = cards.get_card(reading(), obj.api_name, card_id)
    return _card_response(_save_card(obj, body, card_id, {"is_default": current["is_default"]}))


@bp.patch("/v1/objects/<object_name>/cards/<card_ref>")
def update_card(object_name: str, card_ref: str):
    card_id = small_id(card_ref, "card_id")
    body = json_object()
    obj = _object(object_name)
    current = cards.get_card(reading(), obj.api_name, card_id)
    return _card_response(_save_card(obj, body, card_id, current))


@bp.delete("/v1/objects/<object_name>/cards/<card_ref>")
def delete_card(object_name: str, card_ref: str):
    card_id = small_id(card_ref, "card_id")
    cards.delete_card(get_db(), api_actor(), _object(object_name).api_name, card_id)
    return no_content()


# ---- the table design ----------------------------------------------------------------------------
@bp.get("/v1/objects/<object_name>/table")
def get_table(object_name: str):
    """The table as designed (or generated), unmasked, as the table designer shows it. A
    stored filter holding text no database can store is left out and ``filter_problem``
    says why; the ETag stays the stored design's, so a PUT with If-Match replaces it."""
    stored = tables.default_table(reading(), _object(object_name).api_name)
    shown, problem = usable_filter(stored)
    if problem is None:
        return _table_response(stored)
    return json_response({**shown, "filter_problem": problem}, headers={"ETag": f'"{tables.table_etag(stored)}"'})


@bp.put("/v1/objects/<object_name>/table")
def save_table(object_name: str):
    body = json_object()
    obj = _object(object_name)
    return _table_response(tables.save_table(get_db(), api_actor(), obj.api_name, body, expected=if_match_tags()))


@bp.delete("/v1/objects/<object_name>/table")
def reset_table(object_name: str):
    """Forget the design: the table is generated from the fields again."""
    tables.reset_table(get_db(), api_actor(), _object(object_name).api_name)
    return no_content()


# ---- named table designs -------------------------------------------------------------------------
TABLE_DESIGN_KEYS = {"name", "definition", "is_default"}


def _design_response(design: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None):
    return json_response(design, status, {**(headers or {}), "ETag": f'"{table_designs.design_etag(design)}"'})


def _save_design(obj: ObjectInfo, body: dict[str, Any], table_id: int | None, defaults: dict[str, Any]):
    reject_unknown(body, TABLE_DESIGN_KEYS, "a table design")
    merged = {**defaults, **body}
    return table_designs.save_design(get_db(), api_actor(), obj.api_name, merged.get("name"),
                                     merged.get("definition"), is_default=merged.get("is_default", False),
                                     table_id=table_id, expected=if_match_tags() if table_id is not None else None)


@bp.get("/v1/objects/<object_name>/tables")
def list_table_designs(object_name: str):
    """The named table designs (empty when none was designed: the table is generated)."""
    return json_response({"data": table_designs.list_tables(reading(), _object(object_name).api_name)})


@bp.post("/v1/objects/<object_name>/tables")
def create_table_design(object_name: str):
    body = json_object()
    obj = _object(object_name)
    require_keys(body, "name")
    start = {"definition": tables.default_table(reading(), obj.api_name)}  # a copy of the default table
    design = _save_design(obj, body, None, start)
    location = url_for("api.get_table_design", object_name=obj.api_name, table_ref=design["id"])
    return _design_response(design, 201, {"Location": location})


@bp.get("/v1/objects/<object_name>/tables/<table_ref>")
def get_table_design(object_name: str, table_ref: str):
    table_id = small_id(table_ref, "table_id")
    return _design_response(table_designs.get_table(reading(), _object(object_name).api_name, table_id))


@bp.put("/v1/objects/<object_name>/tables/<table_ref>")
def replace_table_design(object_name: str, table_ref: str):
    """Replace name and definition; ``is_default`` left out keeps the design's status."""
    table_id = small_id(table_ref, "table_id")
    body = json_object()
    obj = _object(object_name)
    require_keys(body, "name", "definition")
    current = table_designs.get_table(reading(), obj.api_name, table_id)
    return _design_response(_save_design(obj, body, table_id, {"is_default": current["is_default"]}))


@bp.patch("/v1/objects/<object_name>/tables/<table_ref>")
def update_table_design(object_name: str, table_ref: str):
    table_id = small_id(table_ref, "table_id")
    body = json_object()
    obj = _object(object_name)
    current = table_designs.get_table(reading(), obj.api_name, table_id)
    return _design_response(_save_design(obj, body, table_id, current))


@bp.delete("/v1/objects/<object_name>/tables/<table_ref>")
def delete_table_design(object_name: str, table_ref: str):
    table_id = small_id(table_ref, "table_id")
    table_designs.delete_design(get_db(), api_actor(), _object(object_name).api_name, table_id)
    return no_content()
