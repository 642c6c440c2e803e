"""The API reference page (``/api/docs``): the caller's OpenAPI document rendered as
HTML on the server -- no JavaScript, no CDN, so it works on a closed network."""
from __future__ import annotations

from typing import Any

from flask import render_template

from .auth import optional_actor
from .blueprint import bp
from .openapi import document_for

METHODS = ("get", "post", "put", "patch", "delete")


def type_text(schema: dict[str, Any] | None) -> str:
    """A short, readable type: "string ≤ 255", "LinkRef | null", "array of string" …"""
    if not schema:
        return "any"
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return " | ".join(type_text(s) for s in schema[key])
    kind = schema.get("type", "any")
    kinds = kind if isinstance(kind, list) else [kind]
    parts = []
    for k in kinds:
        if k == "array":
            parts.append(f"array of {type_text(schema.get('items'))}")
        elif k == "null":
            continue
        else:
            text = k
            if schema.get("format"):
                text += f" ({schema['format']})"
            if "maxLength" in schema:
                text += f" ≤ {schema['maxLength']} chars"
            if "minimum" in schema and "maximum" in schema and schema["maximum"] < 2**40:
                text += f" {schema['minimum']}…{schema['maximum']}"
            parts.append(text)
    if "null" in kinds:
        parts.append("null")
    text = " | ".join(parts) or "any"
    enum = [e for e in schema.get("enum") or [] if e is not None]
    if enum:
        shown = ", ".join(str(e) for e in enum[:12]) + (", …" if len(enum) > 12 else "")
        text += f": one of {shown}"
    return text


def _schema_name(content: dict[str, Any] | None) -> str | None:
    schema = ((content or {}).get("application/json") or {}).get("schema") or {}
    return type_text(schema) if schema else None


@bp.get("/docs")
def reference():
    document, _text = document_for(optional_actor())
    sections = []
    for tag in document.get("tags", []):
        operations = []
        for path, item in document["paths"].items():
            for method in METHODS:
                op = item.get(method)
                if op is None or tag["name"] not in op.get("tags", []):
                    continue
                params = [{"name": p["name"], "in": p["in"], "required": p.get("required", False),
                           "type": type_text(p.get("schema")) if "schema" in p else _schema_name(p.get("content")),
                           "description": p.get("description", "")} for p in op.get("parameters", [])]
                body = op.get("requestBody")
                responses = [{"code": code, "description": r.get("description", ""),
                              "schema": _schema_name(r.get("content"))} for code, r in op["responses"].items()]
                operations.append({"method": method.upper(), "path": path, "summary": op.get("summary", ""),
                                   "description": op.get("description", ""), "params": params,
                                   "body": _schema_name(body.get("content")) if body else None,
                                   "public": op.get("security") == [], "responses": responses,
                                   "id": op.get("operationId", "")})
        sections.append({"name": tag["name"], "description": tag.get("description", ""), "operations": operations})
    components = []
    for name, schema in sorted(document.get("components", {}).get("schemas", {}).items()):
        required = set(schema.get("required") or [])
        props = [{"name": p, "type": type_text(s), "required": p in required, "description": s.get("description", "")}
                 for p, s in (schema.get("properties") or {}).items()]
        components.append({"name": name, "description": schema.get("description", ""), "props": props,
                           "type": None if props else type_text(schema)})
    return render_template("api_reference.html", info=document["info"], sections=sections, components=components)
