"""The OpenAPI paths of the configuration beyond objects and fields: cards and the table
design of an object (the configure right), solutions (administrators) and the
configuration log (anyone with a configure right). Filtered like the rest of the
document: object names are those the caller may configure, solutions appear for
administrators only, the log only for callers who may configure something."""
from __future__ import annotations

from typing import TYPE_CHECKING

from cardbase.schema_engine.query.model import MAX_LIMIT, MAX_OFFSET

from .openapi import NO_CONTENT, READ, SMALL_ID, WRITE, body, ok_json, path_param, responses
from .schemas_layouts import LAYOUT_ETAG, LAYOUT_IF_MATCH

if TYPE_CHECKING:  # pragma: no cover
    from .openapi import _Builder


def config_paths(b: "_Builder") -> None:
    layout_paths(b)
    if b.is_admin or b.object_names:
        log_paths(b)
    if b.is_admin:
        solution_paths(b)


def layout_paths(b: "_Builder") -> None:
    tag = b.tag("layouts", "Card layouts and the table design of an object (the configure right); fields by "
                           "API name, never ids")
    obj = b.object_param()
    card = path_param("card_ref", "the card's id", SMALL_ID, example=1)
    base = "/api/v1/objects/{object_name}"
    b.path(f"{base}/cards", tag,
           get={"summary": "List the designed cards (empty: the default card is generated)",
                "operationId": "listCards", "parameters": [obj],
                "responses": responses({200: ok_json("CardList")}, *READ)},
           post={"summary": "Design a card (layout left out: the generated one)", "operationId": "createCard",
                 "parameters": [obj], "requestBody": body("CardInput"),
                 "responses": responses({201: ok_json("Card", "created", LAYOUT_ETAG)}, *WRITE)})
    b.path(f"{base}/cards/default", tag, get={
        "summary": "The card records open with: the default card, or the generated one (id null)",
        "operationId": "getDefaultCard", "parameters": [obj],
        "responses": responses({200: ok_json("Card", headers=LAYOUT_ETAG)}, *READ)})
    b.path(f"{base}/cards/{{card_ref}}", tag,
           get={"summary": "Get a card", "operationId": "getCard", "parameters": [obj, card],
                "responses": responses({200: ok_json("Card", headers=LAYOUT_ETAG)}, *READ)},
           put={"summary": "Replace a card's name and layout (is_default left out: kept)",
                "operationId": "replaceCard", "parameters": [obj, card, LAYOUT_IF_MATCH],
                "requestBody": body("CardReplace"),
                "responses": responses({200: ok_json("Card", headers=LAYOUT_ETAG)}, *WRITE)},
           patch={"summary": "Change a card's name, layout or default status", "operationId": "updateCard",
                  "parameters": [obj, card, LAYOUT_IF_MATCH], "requestBody": body("CardPatch"),
                  "responses": responses({200: ok_json("Card", headers=LAYOUT_ETAG)}, *WRITE)},
           delete={"summary": "Delete a card (the oldest remaining one becomes the default)",
                   "operationId": "deleteCard", "parameters": [obj, card],
                   "responses": responses({204: NO_CONTENT}, *READ)})
    b.path(f"{base}/table", tag,
           get={"summary": "The table design (the list's columns, sort, filter, page size)",
                "operationId": "getTable", "parameters": [obj],
                "responses": responses({200: ok_json("TableDefinition", headers=LAYOUT_ETAG)}, *READ)},
           put={"summary": "Store the table design", "operationId": "saveTable", "parameters": [obj, LAYOUT_IF_MATCH],
                "requestBody": body("TableInput"),
                "responses": responses({200: ok_json("TableDefinition", headers=LAYOUT_ETAG)}, *WRITE)},
           delete={"summary": "Reset the table design: generated from the fields again", "operationId": "resetTable",
                   "parameters": [obj], "responses": responses({204: NO_CONTENT}, *READ)})
    table = path_param("table_ref", "the table design's id", SMALL_ID, example=1)
    b.path(f"{base}/tables", tag,
           get={"summary": "List the named table designs (empty: the table is generated)",
                "operationId": "listTableDesigns", "parameters": [obj],
                "responses": responses({200: ok_json("TableDesignList")}, *READ)},
           post={"summary": "Add a named table design (definition left out: a copy of the default table)",
                 "operationId": "createTableDesign", "parameters": [obj], "requestBody": body("TableDesignInput"),
                 "responses": responses({201: ok_json("TableDesign", "created", LAYOUT_ETAG)}, *WRITE)})
    b.path(f"{base}/tables/{{table_ref}}", tag,
           get={"summary": "Get a table design", "operationId": "getTableDesign", "parameters": [obj, table],
                "responses": responses({200: ok_json("TableDesign", headers=LAYOUT_ETAG)}, *READ)},
           put={"summary": "Replace a table design's name and definition (is_default left out: kept)",
                "operationId": "replaceTableDesign", "parameters": [obj, table, LAYOUT_IF_MATCH],
                "requestBody": body("TableDesignReplace"),
                "responses": responses({200: ok_json("TableDesign", headers=LAYOUT_ETAG)}, *WRITE)},
           patch={"summary": "Change a table design's name, definition or default status",
                  "operationId": "updateTableDesign", "parameters": [obj, table, LAYOUT_IF_MATCH],
                  "requestBody": body("TableDesignPatch"),
                  "responses": responses({200: ok_json("TableDesign", headers=LAYOUT_ETAG)}, *WRITE)},
           delete={"summary": "Delete a table design (the oldest remaining one becomes the default)",
                   "operationId": "deleteTableDesign", "parameters": [obj, table],
                   "responses": responses({204: NO_CONTENT}, *READ)})


def log_paths(b: "_Builder") -> None:
    tag = b.tag("configuration", "The configuration change log; solutions (administrators)")
    query = [
        {"name": "object", "in": "query", "description": "only the changes to this object",
         "schema": {"type": "string", "enum": b.object_names} if b.object_names else {"type": "string"}},
        {"name": "limit", "in": "query", "description": f"page size (default 50, at most {MAX_LIMIT})",
         "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}},
        {"name": "offset", "in": "query", "description": "entries to skip",
         "schema": {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET}},
    ]
    b.path("/api/v1/config-log", tag, get={
        "summary": "Configuration changes, newest first (administrators: all; others: the objects they configure)",
        "operationId": "getConfigLog", "parameters": query,
        "responses": responses({200: ok_json("ConfigLog")}, *READ)})


def solution_paths(b: "_Builder") -> None:
    tag = b.tag("configuration", "The configuration change log; solutions (administrators)")
    dry_run = {"name": "dry_run", "in": "query", "schema": {"type": "boolean"},
               "description": "only show what the import would add, change, keep and remove; write nothing"}
    b.path("/api/v1/solution", tag,
           get={"summary": "Export the whole configuration as a solution document", "operationId": "exportSolution",
                "responses": responses({200: ok_json("SolutionDocument")}, 401, 403)},
           post={"summary": "Import a solution document (one transaction), or preview it with dry_run",
                 "operationId": "importSolution", "parameters": [dry_run], "requestBody": body("SolutionDocument"),
                 "responses": responses({200: ok_json("SolutionImportResult")}, *WRITE)})
