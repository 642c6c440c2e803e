"""The OpenAPI paths around one object's list: saved views, the trash, grouped figures and
exports. Part of the per-object paths, so they appear only for objects the caller may
read; the export only when the caller has the export right too."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cardbase.schema_engine.query.buckets import BUCKETS
from cardbase.schema_engine.query.filters import MAX_LIST
from cardbase.schema_engine.query.model import MAX_FIELDS, MAX_LIMIT, MAX_OFFSET, MAX_SEARCH
from cardbase.schema_engine.query.sort import MAX_SORT_KEYS
from cardbase.schema_engine.snapshot import ObjectInfo

from .aggregate import DEFAULT_GROUPS, MAX_GROUPS, METRICS
from .export import FORMATS
from .openapi import NO_CONTENT, READ, SMALL_ID, WRITE, body, ok_json, path_param, responses
from .schemas_layouts import LAYOUT_ETAG, LAYOUT_IF_MATCH

if TYPE_CHECKING:  # pragma: no cover
    from .openapi import _Builder


def record_list_paths(b: "_Builder", obj: ObjectInfo, tag: str, list_params: list[dict[str, Any]]) -> None:
    base = f"/api/v1/records/{obj.api_name}"
    by_name = {p["name"]: p for p in list_params}
    view_paths(b, obj, tag, base)
    query_path(b, obj, tag, base)
    b.path(f"{base}/trash", tag, get={
        "summary": f"The {obj.label_plural} in the trash, the most recently deleted first",
        "operationId": f"trash_{obj.api_name}", "parameters": [p for p in list_params if p["name"] != "trash"],
        "description": f"Restore one with POST {base}/{{id}}/restore.",
        "responses": responses({200: ok_json(f"{b.names[obj.id]}List")}, 400, 401, 403, 404)})
    if b.can(obj, "report"):
        aggregate_path(b, obj, tag, base, by_name)
    if b.can(obj, "export"):
        export_path(b, obj, tag, base, by_name)


def query_path(b: "_Builder", obj: ObjectInfo, tag: str, base: str) -> None:
    """POST {base}/query: the list with its parameters in a JSON body (long filters)."""
    name = b.names[obj.id]
    paths = {"type": "string", "minLength": 1, "maxLength": 1000}
    b.spec.components.schema(f"{name}Query", component={
        "type": "object", "additionalProperties": False,
        "description": "The parameters of the list, as JSON: for filters too long for a URL.",
        "properties": {
            "filter": {"$ref": f"#/components/schemas/{name}Filter"},
            "sort": {"description": 'field paths, minus for descending: "-amount,name" or ["-amount", "name"]',
                     "anyOf": [{"type": "string", "maxLength": 1000},
                               {"type": "array", "items": paths, "maxItems": MAX_SORT_KEYS}]},
            "fields": {"description": "fields to return, link paths allowed; id, code and version are always "
                                      "included",
                       "anyOf": [{"type": "array", "items": paths, "maxItems": MAX_FIELDS},
                                 {"type": "string", "maxLength": 5000}]},
            "q": {"type": "string", "maxLength": MAX_SEARCH, "description": "search text: every word must match"},
            "limit": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT,
                      "description": f"page size (default 50, at most {MAX_LIMIT})"},
            "cursor": {"type": "string", "maxLength": 4000, "description": "next_cursor of the previous page "
                                                                           "(of the same query)"},
            "offset": {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET,
                       "description": "rows to skip (instead of a cursor)"},
            "trash": {"type": "boolean", "description": "list the trash instead"},
            "count": {"type": "boolean", "description": "count the matching rows (default true; false answers "
                                                        "count -1 and saves the count's work)"}}})
    b.path(f"{base}/query", tag, post={
        "summary": f"List {obj.label_plural} with the query in a JSON body",
        "operationId": f"query_{obj.api_name}",
        "description": f"The same parameters, limits and rights as GET {base}, sent as a JSON object: for "
                       f"filters too long for a URL (a server's request line ends near 4 KB, long before the "
                       f"{MAX_LIST:,} values an `in` may list). Reads nothing else and changes nothing.",
        "requestBody": body(f"{name}Query"),
        "responses": responses({200: ok_json(f"{name}List")}, 400, 401, 403, 404, 413, 415)})


def view_paths(b: "_Builder", obj: ObjectInfo, tag: str, base: str) -> None:
    view = path_param("view_ref", "the view's id", SMALL_ID, example=1)
    shared = "shared views need the configure right"
    b.path(f"{base}/views", tag,
           get={"summary": "Saved views: the shared ones and your own", "operationId": f"views_{obj.api_name}",
                "responses": responses({200: ok_json("ViewList")}, *READ)},
           post={"summary": f"Save a view (personal; {shared})", "operationId": f"create_view_{obj.api_name}",
                 "requestBody": body("ViewInput"),
                 "responses": responses({201: ok_json("View", "created", LAYOUT_ETAG)}, *WRITE)})
    b.path(f"{base}/views/{{view_ref}}", tag,
           get={"summary": "Get a view (without what you may not read)", "operationId": f"view_{obj.api_name}",
                "parameters": [view], "responses": responses({200: ok_json("View", headers=LAYOUT_ETAG)}, *READ)},
           put={"summary": "Replace a view's name and definition (shared left out: kept; conditions on fields "
                           "you may not read: kept)",
                "operationId": f"replace_view_{obj.api_name}", "parameters": [view, LAYOUT_IF_MATCH],
                "requestBody": body("ViewInput"), "responses": responses({200: ok_json("View", headers=LAYOUT_ETAG)},
                                                                         *WRITE)},
           patch={"summary": f"Change a view ({shared}); what the body leaves out stays as stored",
                  "operationId": f"update_view_{obj.api_name}",
                  "parameters": [view, LAYOUT_IF_MATCH], "requestBody": body("ViewPatch"),
                  "responses": responses({200: ok_json("View", headers=LAYOUT_ETAG)}, *WRITE)},
           delete={"summary": f"Delete a view (your own; {shared})", "operationId": f"delete_view_{obj.api_name}",
                   "parameters": [view], "responses": responses({204: NO_CONTENT}, *READ)})


METRIC_HINTS = {"sum": "numbers and money", "avg": "numbers and money", "min": "anything ordered",
                "max": "anything ordered"}


def _paths_param(name: str, description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "description": description, "schema": {"type": "string", "maxLength": 1000}}


def aggregate_path(b: "_Builder", obj: ObjectInfo, tag: str, base: str, list_params: dict[str, Any]) -> None:
    buckets = ", ".join(f":{name}" for name in BUCKETS)
    params = [_paths_param("group_by", f"paths to group by, comma-separated; a date path may end in {buckets} "
                                       "(close_date:month)")]
    params += [_paths_param(op, f"paths to {op}, comma-separated ({METRIC_HINTS[op]})") for op in METRICS]
    params += [list_params["filter"], list_params["q"],
               {"name": "limit", "in": "query", "description": f"most groups (default {DEFAULT_GROUPS}); more are "
                                                               "refused, not cut",
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_GROUPS}}]
    b.path(f"{base}/aggregate", tag, get={
        "summary": f"Grouped counts, sums, averages, minima and maxima of {obj.label_plural}",
        "operationId": f"aggregate_{obj.api_name}", "parameters": params,
        "description": "One row per group with the group keys, `count` and one key per metric (`sum_amount`, "
                       "`avg_probability`, `max_organisation__size`). The rights apply as in the list.",
        "responses": responses({200: ok_json("AggregateResult")}, 400, 401, 403, 404)})


def export_path(b: "_Builder", obj: ObjectInfo, tag: str, base: str, list_params: dict[str, Any]) -> None:
    params = [
        {"name": "format", "in": "query", "description": "csv (default) or xlsx",
         "schema": {"type": "string", "enum": list(FORMATS)}},
        {**list_params["fields"], "description": "the columns, comma-separated, link paths allowed (default: the "
                                                 "object's table)"},
        {**list_params["sort"], "description": "field paths, minus for descending (default: the table's sort)"},
        list_params["filter"], list_params["q"],
    ]
    files = {media.split(";")[0]: {"schema": {"type": "string", "format": "binary"}} for media in FORMATS.values()}
    headers = {"Content-Disposition": {"schema": {"type": "string"}},
               "X-Total-Count": {"description": "the rows, when counted exactly", "schema": {"type": "string"}}}
    b.path(f"{base}/export", tag, get={
        "summary": f"Export {obj.label_plural} to CSV or XLSX (needs the export right)",
        "operationId": f"export_{obj.api_name}", "parameters": params,
        "description": "Values as the list shows them, in the caller's language; cells that a spreadsheet would "
                       "run as a formula are neutralised.",
        "responses": responses({200: {"description": "the file", "content": files, "headers": headers}},
                               400, 401, 403, 404)})
