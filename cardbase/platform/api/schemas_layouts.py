"""Marshmallow schemas of cards, the table design and saved views, as the API speaks them:
the named form of ``layouts.cards`` and ``layouts.tables`` (fields by API name, child lists
as {"object", "link"}), never field ids. The limits are the engine's own constants, so the
description cannot drift from what the engine accepts; the engine still validates
everything (and names each problem) -- these schemas only describe it."""
from __future__ import annotations

from marshmallow import fields as f
from marshmallow import validate as v

from cardbase.schema_engine.layouts import cards, common, tables
from cardbase.schema_engine.query.model import MAX_LIMIT

from .schemas import Strict, _desc

# Cards, the table design and saved views answer with an ETag, a fingerprint of what was
# read (``cards.card_etag``, ``tables.table_etag``, ``tables.view_etag``); saves take it as If-Match.
LAYOUT_ETAG = {"ETag": {"description": "a fingerprint of what was read, for If-Match", "schema": {"type": "string"}}}
LAYOUT_IF_MATCH = {"name": "If-Match", "in": "header", "required": False,
                   "description": "the ETag read: if it changed since, 409 conflict (with current) and nothing is "
                                  "saved; left out, the last write wins",
                   "schema": {"type": "string", "maxLength": 1000}}

_LABEL = v.Length(max=common.MAX_LABEL)
_HELP = v.Length(max=common.MAX_HELP)
_NAME = v.Length(min=1, max=common.MAX_LABEL)


# ---- cards --------------------------------------------------------------------------------------
class CardListRef(Strict):
    object = f.String(required=True, metadata=_desc("the child object's API name"))
    link = f.String(required=True, metadata=_desc("its link field to this object"))


class CardFieldItem(Strict):
    field = f.String(required=True, metadata=_desc("a field's API name (system fields such as code too)"))
    column = f.Integer(validate=v.Range(min=1, max=cards.MAX_COLUMNS))
    label = f.String(validate=_LABEL, metadata=_desc("overrides the field's label on this card"))
    help = f.String(validate=_HELP)


class _CardListItem(Strict):
    label = f.String(validate=_LABEL)
    columns = f.List(f.String(), validate=v.Length(min=1, max=cards.MAX_LIST_COLUMNS),
                     metadata=_desc("fields of the child object shown as columns"))
    help = f.String(validate=_HELP)


class CardChildrenItem(_CardListItem):
    children = f.Nested(CardListRef, required=True, metadata=_desc("an editable sub-table of child records"))


class CardRelatedItem(_CardListItem):
    related = f.Nested(CardListRef, required=True, metadata=_desc("a read-only list of linking records"))


_ITEM = {"anyOf": [{"$ref": "#/components/schemas/CardFieldItem"},
                   {"$ref": "#/components/schemas/CardChildrenItem"},
                   {"$ref": "#/components/schemas/CardRelatedItem"},
                   {"type": "string", "description": "shorthand for {\"field\": name} (input only)"}]}


class CardSection(Strict):
    label = f.String(validate=_LABEL)
    columns = f.Integer(validate=v.Range(min=1, max=cards.MAX_COLUMNS))
    help = f.String(validate=_HELP)
    items = f.List(f.Raw(metadata=_ITEM))


class CardTab(Strict):
    label = f.String(validate=_LABEL, metadata=_desc("may be empty when the card has one tab"))
    sections = f.List(f.Nested(CardSection), required=True)


class CardLayout(Strict):
    tabs = f.List(f.Nested(CardTab), required=True, validate=v.Length(min=1, max=cards.MAX_TABS))


# ---- named designs: what cards and named table designs share -------------------------------------
class DesignSummary(Strict):
    """One named design in a list (cards and table designs alike)."""
    id = f.Integer(required=True)
    name = f.String(required=True)
    is_default = f.Boolean(required=True)


class ShownDesign(DesignSummary):
    """The design as read: possibly the generated one, which has no id."""
    id = f.Integer(required=True, allow_none=True, metadata=_desc("null: none was designed, this one is generated"))


class DesignPatch(Strict):
    """A design's name and default status, each optional (PATCH)."""
    name = f.String(validate=_NAME)
    is_default = f.Boolean()


class CardSummary(DesignSummary):
    pass


class CardList(Strict):
    data = f.List(f.Nested(CardSummary), required=True)


class Card(ShownDesign):
    layout = f.Nested(CardLayout, required=True)


class CardInput(Strict):
    name = f.String(required=True, validate=_NAME, metadata=_desc("unique per object"))
    is_default = f.Boolean(metadata=_desc("make it the object's default card (the first card always is)"))
    layout = f.Nested(CardLayout, metadata=_desc("default: the generated card (every field, child lists)"))


class CardReplace(CardInput):
    layout = f.Nested(CardLayout, required=True)


class CardPatch(DesignPatch):
    layout = f.Nested(CardLayout)


# ---- tables and views ---------------------------------------------------------------------------
class TableColumn(Strict):
    field = f.String(required=True, metadata=_desc("a field or a path across links: organisation.city"))
    width = f.Integer(validate=v.Range(min=tables.MIN_WIDTH, max=tables.MAX_WIDTH), metadata=_desc("pixels"))


class TableDefinition(Strict):
    columns = f.List(f.Nested(TableColumn), required=True)
    sort = f.String(required=True, metadata=_desc("-amount,name (empty: the store's order)"))
    filter = f.Dict(required=True, allow_none=True, metadata=_desc("the filter language (docs/filters.md)"))
    page_size = f.Integer(required=True)
    filter_problem = f.String(metadata=_desc("only when the stored filter cannot be used (it holds text no "
                                             "database can store): why; ``filter`` is then null"))


_COLUMN_IN = {"anyOf": [{"$ref": "#/components/schemas/TableColumn"},
                        {"type": "string", "description": "shorthand for {\"field\": path}"}]}


class DefinitionInput(Strict):
    columns = f.List(f.Raw(metadata=_COLUMN_IN), validate=v.Length(max=tables.MAX_TABLE_COLUMNS),
                     metadata=_desc("a view may leave them out: it then shows the table's columns"))
    sort = f.String(allow_none=True, validate=v.Length(max=1000))
    filter = f.Dict(allow_none=True, metadata=_desc("the filter language (docs/filters.md)"))
    page_size = f.Integer(allow_none=True, validate=v.Range(min=1, max=MAX_LIMIT))


class TableInput(DefinitionInput):
    columns = f.List(f.Raw(metadata=_COLUMN_IN), required=True,
                     validate=v.Length(min=1, max=tables.MAX_TABLE_COLUMNS))


class ViewSummary(Strict):
    id = f.Integer(required=True)
    name = f.String(required=True)
    shared = f.Boolean(required=True, metadata=_desc("shared with everyone who may read the object"))
    owner_id = f.Integer(required=True, allow_none=True, metadata=_desc("who made it"))
    mine = f.Boolean(required=True, metadata=_desc("the caller made it"))


class ViewList(Strict):
    data = f.List(f.Nested(ViewSummary), required=True)


class View(ViewSummary):
    definition = f.Nested(TableDefinition, required=True,
                          metadata=_desc("what the caller may not read is left out"))
    filter_incomplete = f.Boolean(required=True, metadata=_desc("a filter condition on a field hidden from "
                                                                 "the caller was left out"))


class ViewInput(Strict):
    name = f.String(required=True, validate=_NAME)
    shared = f.Boolean(metadata=_desc("shared views need the configure right (default: personal)"))
    definition = f.Nested(DefinitionInput, required=True)


class ViewPatch(Strict):
    name = f.String(validate=_NAME)
    shared = f.Boolean(metadata=_desc("sharing or unsharing needs the configure right"))
    definition = f.Nested(DefinitionInput)


# ---- named table designs (several per object, one the default) -------------------------------------
class TableDesignSummary(DesignSummary):
    pass


class TableDesignList(Strict):
    data = f.List(f.Nested(TableDesignSummary), required=True)


class TableDesign(ShownDesign):
    definition = f.Nested(TableDefinition, required=True)


class TableDesignInput(Strict):
    name = f.String(required=True, validate=_NAME, metadata=_desc("unique per object"))
    is_default = f.Boolean(metadata=_desc("make it the table the list opens with (the first design always is)"))
    definition = f.Nested(TableInput, metadata=_desc("default: a copy of the default table"))


class TableDesignReplace(TableDesignInput):
    definition = f.Nested(TableInput, required=True)


class TableDesignPatch(DesignPatch):
    definition = f.Nested(TableInput)


STATIC = [CardListRef, CardFieldItem, CardChildrenItem, CardRelatedItem, CardSection, CardTab, CardLayout,
          CardSummary, CardList, Card, CardInput, CardReplace, CardPatch, TableColumn, TableDefinition,
          DefinitionInput, TableInput, ViewSummary, ViewList, View, ViewInput, ViewPatch, TableDesignSummary,
          TableDesignList, TableDesign, TableDesignInput, TableDesignReplace, TableDesignPatch]
