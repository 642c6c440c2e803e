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
Cards and named table designs share their REST handling (named_designs.NamedDesignKind).
"""
from __future__ import annotations

from typing import Any

from cardbase.schema_engine.layouts import cards, table_designs, tables

from ..context import get_db
from ..jsonio import usable_filter
from .auth import api_actor
from .blueprint import bp
from .http import if_match_tags, json_object, json_response, no_content
from .named_designs import NamedDesignKind, design_object
from .records import reading

CARDS = NamedDesignKind(
    label="a card", content_key="layout", id_name="card_id", endpoint="api.get_card", ref_arg="card_ref",
    get=cards.get_card, delete=cards.delete_card, etag=cards.card_etag,
    save=lambda db, actor, obj, name, layout, design_id, **kw: cards.save_card(
        db, actor, obj, name, layout, card_id=design_id, **kw),
    start=lambda obj: cards.default_layout(reading().schema, obj))  # what the designer starts from
TABLE_DESIGNS = NamedDesignKind(
    label="a table design", content_key="definition", id_name="table_id", endpoint="api.get_table_design",
    ref_arg="table_ref", get=table_designs.get_table, delete=table_designs.delete_design,
    etag=table_designs.design_etag,
    save=lambda db, actor, obj, name, definition, design_id, **kw: table_designs.save_design(
        db, actor, obj, name, definition, table_id=design_id, **kw),
    start=lambda obj: tables.default_table(reading(), obj.api_name))  # a copy of the default table


def _table_response(definition: dict[str, Any]):
    return json_response(definition, headers={"ETag": f'"{tables.table_etag(definition)}"'})


# ---- cards ---------------------------------------------------------------------------------------
@bp.get("/v1/objects/<object_name>/cards")
def list_cards(object_name: str):
    """The designed cards (empty when none was designed: the default card is generated)."""
    obj = design_object(object_name)
    return json_response({"data": cards.list_cards(reading(), obj.api_name)})


@bp.get("/v1/objects/<object_name>/cards/default")
def default_card(object_name: str):
    """The card records open with: the default one, or the generated one (id null)."""
    obj = design_object(object_name)
    return CARDS.response(cards.get_card(reading(), obj.api_name))


@bp.post("/v1/objects/<object_name>/cards")
def create_card(object_name: str):
    return CARDS.create(object_name)


@bp.get("/v1/objects/<object_name>/cards/<card_ref>")
def get_card(object_name: str, card_ref: str):
    return CARDS.read(object_name, card_ref)


@bp.put("/v1/objects/<object_name>/cards/<card_ref>")
def replace_card(object_name: str, card_ref: str):
    """Replace name and layout; ``is_default`` left out keeps the card's status."""
    return CARDS.replace(object_name, card_ref)


@bp.patch("/v1/objects/<object_name>/cards/<card_ref>")
def update_card(object_name: str, card_ref: str):
    return CARDS.patch(object_name, card_ref)


@bp.delete("/v1/objects/<object_name>/cards/<card_ref>")
def delete_card(object_name: str, card_ref: str):
    return CARDS.remove(object_name, card_ref)


# ---- the table design ----------------------------------------------------------------------------
@bp.get("/v1/objects/<object_name>/table")
def get_table(object_name: str):
    """The table as designed (or generated), unmasked, as the table designer shows it. A
    stored filter holding text no database can store is left out and ``filter_problem``
    says why; the ETag stays the stored design's, so a PUT with If-Match replaces it."""
    stored = tables.default_table(reading(), design_object(object_name).api_name)
    shown, problem = usable_filter(stored)
    if problem is None:
        return _table_response(stored)
    return json_response({**shown, "filter_problem": problem}, headers={"ETag": f'"{tables.table_etag(stored)}"'})


@bp.put("/v1/objects/<object_name>/table")
def save_table(object_name: str):
    body = json_object()
    obj = design_object(object_name)
    return _table_response(tables.save_table(get_db(), api_actor(), obj.api_name, body, expected=if_match_tags()))


@bp.delete("/v1/objects/<object_name>/table")
def reset_table(object_name: str):
    """Forget the design: the table is generated from the fields again."""
    tables.reset_table(get_db(), api_actor(), design_object(object_name).api_name)
    return no_content()


# ---- named table designs -------------------------------------------------------------------------
@bp.get("/v1/objects/<object_name>/tables")
def list_table_designs(object_name: str):
    """The named table designs (empty when none was designed: the table is generated)."""
    return json_response({"data": table_designs.list_tables(reading(), design_object(object_name).api_name)})


@bp.post("/v1/objects/<object_name>/tables")
def create_table_design(object_name: str):
    return TABLE_DESIGNS.create(object_name)


@bp.get("/v1/objects/<object_name>/tables/<table_ref>")
def get_table_design(object_name: str, table_ref: str):
    return TABLE_DESIGNS.read(object_name, table_ref)


@bp.put("/v1/objects/<object_name>/tables/<table_ref>")
def replace_table_design(object_name: str, table_ref: str):
    """Replace name and definition; ``is_default`` left out keeps the design's status."""
    return TABLE_DESIGNS.replace(object_name, table_ref)


@bp.patch("/v1/objects/<object_name>/tables/<table_ref>")
def update_table_design(object_name: str, table_ref: str):
    return TABLE_DESIGNS.patch(object_name, table_ref)


@bp.delete("/v1/objects/<object_name>/tables/<table_ref>")
def delete_table_design(object_name: str, table_ref: str):
    return TABLE_DESIGNS.remove(object_name, table_ref)
